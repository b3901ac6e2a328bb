"""Engagement: channel settings, presentation, opens, edits and retractions, preferences."""
