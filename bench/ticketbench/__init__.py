"""The ticket list benchmark's parts; bench/tickets_list.py is its command line.

- target.py: the target interface (Target, Probe, ProbeResult) and the Django form login
- helpdesk_project.py: the generated django-helpdesk project's files and its seed SQL
- helpdesk.py: django-helpdesk as a target (its own virtualenv, project and database)
- kefu.py: Kefu's /tickets/ as a target (seeding in bench/kefu_tickets.py)
- runner.py: one target end to end: prepare, serve, log in, time every probe
- sql_facts.py: the pure-Postgres pagination and count facts (`--targets sql`)
- report.py: the side-by-side table
"""
