"""Second pre-registered test: does the crossing predict the peak beyond the row's order?"""
