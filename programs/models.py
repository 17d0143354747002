# Models come with their own issue; see README.
