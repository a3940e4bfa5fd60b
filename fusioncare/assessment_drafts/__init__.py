"""Assessment drafts: a browser's questionnaire answers in progress, kept server-side for a short time."""
