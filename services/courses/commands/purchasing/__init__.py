"""Use cases of purchasing: the request and its quotes (`requesting`), approvals with a second approver above
the threshold (`approval`), order, delivery and close (`fulfilment`), the invoice (`invoices`); what every step
does in `steps`. Budgets, budget holders and the threshold are set up in `commands/budgets`.

A purchase's steps lock its row; a step that touches the budget then locks the budget's row, always
in that order, so two approvals against one budget are decided one after the other.
"""
