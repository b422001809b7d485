from quantumtrade.cli import app

app()
