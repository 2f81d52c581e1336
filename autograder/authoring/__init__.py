"""Chapter authoring, for the course's authors: the builder (jupytext sources -> chapter notebooks) and the claims it checks."""
