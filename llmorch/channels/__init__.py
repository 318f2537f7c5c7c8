"""Where conversations and results reach people outside the terminal: the Telegram bot."""
