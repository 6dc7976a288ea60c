"""partners: the municipalities and libraries (the tenants), partner organisations, and the partners' feeds."""
