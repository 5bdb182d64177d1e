"""The views: text on a terminal, the page to print, the pager, a cohort's progress."""
