"""The idle-sockets benchmark's parts; bench/ws_idle.py is its command line.

- server.py: the web process: the Procfile's uvicorn flags, kill / start again on the same
  port, and what /proc says about it (memory, socket fds, open-file limit, CPU)
- clients.py: visitor sessions over keep-alive HTTP, and reconnecting websockets that act
  like the widget and workbench (static/kefu/js/socket.js, docs/realtime.md)
- loadgen.py: the load generator processes holding the sockets, driven over a pipe
- kefu.py: Kefu's side: database, seeding, the server's environment, sign-ins, the agents'
  driver sockets, and what the database holds
- runner.py: the phases: echo baseline, open N, memory, pushes, restart storm, dead sockets
- report.py: the table with each figure, its target and the verdict
"""
