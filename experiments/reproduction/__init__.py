"""The figure-by-figure reproduction of the paper: verdict rules, report sections and figures."""
