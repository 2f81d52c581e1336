"""The course's code, a package per audience (learner, authoring, checks, pipeline) and the modules
they share."""
