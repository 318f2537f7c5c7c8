"""`llmorch telegram`: a bot that answers allowed chats from the notes, one conversation per chat."""
