"""For the course's authors: the chapter builder (jupytext sources -> notebooks) and the prose
claims it checks."""
