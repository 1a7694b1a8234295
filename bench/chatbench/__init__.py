"""The chat latency benchmark's parts; bench/chat_latency.py is its command line.

- target.py: the target / adapter contract (ChatTarget, Pair) and the client connection
- echo.py: the bare Channels echo (bench/echo_app.py) as a target, the floor
- kefu.py: Kefu's visitor / agent consumers as a target (KefuChatTarget, AgentSocket)
- load.py: the load generator processes (open pairs, send at a fixed rate, read, drain)
- stats.py: merging the load processes' results: latency percentiles, rates, server CPU
- runner.py: one target end to end: serve, the main run, rate stepping and bisection
- report.py: the one-line summary per run and the final table
"""
