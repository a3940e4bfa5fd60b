"""Pain diary, questionnaires, trends, charts and the visit summary."""
