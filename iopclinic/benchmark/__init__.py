"""``make bench``: admin pages and reports timed in-process on the scale dataset,
tuned and deliberately naive, with their queries counted and explained."""
