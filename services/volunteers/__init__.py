"""volunteers: recruitment, interns, screening, training and qualifications, assignment to courses."""
