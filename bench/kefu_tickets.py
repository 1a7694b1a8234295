"""Kefu's side of bench/tickets_list.py: seed N tickets into Kefu's real tables, and the probes.

Seeding is set-based SQL on the database `migrate` + `seed_demo` built (demo shops, groups,
ticket types, SLA policies, customers). The small things (20 skill groups with their
GroupSettings, 30 agents with AgentProfile, role and group memberships) are upserted row by
row; the N tickets and their timeline nodes are one `INSERT … SELECT … FROM generate_series`
each, with the distributions of the django-helpdesk seed where they map:

- one ticket a minute back from now; `hashint4` picks independent group, status, priority,
  type, customer, assignee;
- status (20 slots): 5 % new + 5 % waiting for hours (the 10 % unassigned, like helpdesk's
  10 % without owner), 30 % in progress (helpdesk "open"), 20 % resolved, 40 % closed: 40 %
  open, like helpdesk's open + reopened;
- priority: low / normal / high / urgent, 25 % each (helpdesk has 1–5 at 20 %);
- 20 groups, all around the clock (GroupSettings without calendar), so the SLA columns are
  exactly what Kefu's clock would compute: the demo's "Standard" policy (first response
  240 min, resolution 960 min, reminder 30 min before) from creation; `sla_due` /
  `sla_warn_at` / `sla_check_at` derived as tickets/services/sla.py and the sweep leave them;
- the assignee is one of the 3 members of the ticket's group (30 agents in all: 24 platform
  agents, 3 merchant agents per demo shop in their shop's groups);
- shop: the group's shop for merchant groups, else none / blossom-tea / northwind;
- nodes: a "created" node for every ticket and an "assigned" node for every assigned one
  (the detail page's timeline reads them).

Bulk-load technique: the tickets tables are truncated, their secondary indexes dropped and
re-created afterwards from their own definitions (pg_indexes), and foreign-key triggers are
off for the load (`session_replication_role = replica`; the rows are consistent by
construction). Then VACUUM ANALYZE.
"""

from __future__ import annotations

import time
from typing import Any

import psycopg

STATUS_SLOTS = ["new", "waiting_hours"] + ["in_progress"] * 6 + ["resolved"] * 4 + ["closed"] * 8
PRIORITIES = ["low", "normal", "high", "urgent"]
N_GROUPS = 20
N_AGENTS = 30
MEMBERS_PER_GROUP = 3

# Demo groups used as they are (the two office-hours desks are left out: their SLA
# deadlines would need the business-hours clock, which SQL cannot compute).
DEMO_GROUPS = ["Pre-sales", "After-sales", "Complaints"]
DEMO_SHOP_GROUPS = {"blossom-tea": "Blossom service", "northwind": "Northwind service"}


def _one(conn: psycopg.Connection[Any], sql: str, params: Any = None) -> Any:
    row = conn.execute(sql, params).fetchone()
    return row[0] if row else None


def ticket_count(conn: psycopg.Connection[Any]) -> int:
    return int(_one(conn, "SELECT count(*) FROM tickets_ticket") or 0)


def _setup_people(conn: psycopg.Connection[Any]) -> list[tuple[int, int | None, list[int]]]:
    """20 groups (with GroupSettings), 30 agents, memberships. Returns (group, shop, members)."""
    shops = dict(conn.execute("SELECT code, id FROM agents_shop").fetchall())
    role_ids = dict(conn.execute("SELECT name, id FROM auth_group").fetchall())

    def group(name: str, shop_id: int | None) -> int:
        found = _one(
            conn,
            "SELECT id FROM agents_skillgroup WHERE name = %s AND shop_id IS NOT DISTINCT FROM %s",
            [name, shop_id],
        )
        if found:
            return int(found)
        return int(
            _one(
                conn,
                "INSERT INTO agents_skillgroup (name, description, is_active, shop_id) "
                "VALUES (%s, 'Benchmark group', true, %s) RETURNING id",
                [name, shop_id],
            )
        )

    platform = [group(n, None) for n in DEMO_GROUPS]
    platform += [group(f"Bench desk {i:02d}", None) for i in range(1, 14)]
    by_shop = {
        code: [group(DEMO_SHOP_GROUPS[code], shops[code]), group(f"Bench {code} desk", shops[code])]
        for code in ("blossom-tea", "northwind")
    }
    groups = [(g, None) for g in platform] + [
        (g, shops[code]) for code, ids in by_shop.items() for g in ids
    ]
    assert len(groups) == N_GROUPS
    for gid, _shop in groups:
        # Around the clock: no calendar; reassign untouched tickets after an hour.
        conn.execute(
            "INSERT INTO settings_app_groupsettings (group_id, calendar_id, reassign_after_minutes)"
            " VALUES (%s, NULL, 60) ON CONFLICT (group_id) DO UPDATE SET calendar_id = NULL",
            [gid],
        )

    def agent(i: int, role: str, shop_id: int | None) -> int:
        username = f"benchagent{i:02d}"
        uid = _one(conn, "SELECT id FROM agents_user WHERE username = %s", [username])
        if uid is None:
            uid = _one(
                conn,
                "INSERT INTO agents_user (password, is_superuser, username, first_name, last_name,"
                " email, is_staff, is_active, date_joined, display_name, language)"
                " VALUES ('!', false, %s, 'Bench', %s, %s, false, true, now(), %s, 'zh-hans')"
                " RETURNING id",
                [username, f"{i:02d}", f"{username}@example.com", f"Bench agent {i:02d}"],
            )
        conn.execute(
            "INSERT INTO agents_agentprofile (user_id, max_concurrent, state, state_changed_at)"
            " VALUES (%s, 5, %s, now()) ON CONFLICT (user_id) DO NOTHING",
            [uid, "online" if i % 3 else "away"],
        )
        conn.execute(
            "INSERT INTO agents_user_groups (user_id, group_id) SELECT %s, %s WHERE NOT EXISTS"
            " (SELECT 1 FROM agents_user_groups WHERE user_id = %s AND group_id = %s)",
            [uid, role_ids[role], uid, role_ids[role]],
        )
        if shop_id is not None:
            conn.execute(
                "INSERT INTO agents_user_shops (user_id, shop_id) SELECT %s, %s WHERE NOT EXISTS"
                " (SELECT 1 FROM agents_user_shops WHERE user_id = %s AND shop_id = %s)",
                [uid, shop_id, uid, shop_id],
            )
        return int(uid)

    platform_agents = [agent(i, "agent", None) for i in range(1, 25)]
    shop_agents = {
        code: [agent(25 + k + 3 * n, "merchant_agent", shops[code]) for k in range(3)]
        for n, code in enumerate(("blossom-tea", "northwind"))
    }
    members: dict[int, list[int]] = {}
    # 16 platform groups x 3 = 48 seats over 24 agents: each agent in 2 groups.
    for n, gid in enumerate(platform):
        members[gid] = [platform_agents[(n * 3 + k) % 24] for k in range(MEMBERS_PER_GROUP)]
    for code, ids in by_shop.items():
        for gid in ids:
            members[gid] = shop_agents[code]
    for gid, uids in members.items():
        for k, uid in enumerate(uids):
            conn.execute(
                "INSERT INTO agents_groupmembership (group_id, user_id, role, joined_at)"
                " VALUES (%s, %s, %s, now()) ON CONFLICT DO NOTHING",
                [gid, uid, "lead" if k == 0 else "member"],
            )
    return [(gid, shop, members[gid]) for gid, shop in groups]


TICKETS_SQL = """
INSERT INTO tickets_ticket (id, title, description, ticket_type_id, priority, category_id,
    status, hold_reason, shop_id, group_id, assignee_id, submitter_id, customer_id, order_id,
    answers, version, created_at, updated_at, assigned_at, first_response_at, resolved_at,
    closed_at, sla_policy_id, first_response_due, resolution_due, paused_at, paused_seconds,
    sla_due, sla_warn_at, sla_check_at)
SELECT g, t.title, t.description, t.type_id, t.priority, t.category_id, t.status, '',
    t.shop_id, t.group_id, t.assignee_id, %(submitter)s, t.customer_id, NULL, '{}'::jsonb,
    t.version, t.created_at, t.updated_at, t.assigned_at, t.first_response_at, t.resolved_at,
    t.closed_at, %(policy)s, t.fr_due, t.res_due, NULL, 0, t.sla_due,
    t.sla_due - make_interval(mins => %(remind)s),
    CASE WHEN t.sla_due IS NULL THEN NULL ELSE (
        SELECT min(x) FROM unnest(ARRAY[
            t.fr_due - make_interval(mins => %(remind)s), t.fr_due,
            t.res_due - make_interval(mins => %(remind)s), t.res_due]) AS x
        WHERE x > now()
          AND (t.first_response_at IS NULL OR x >= t.res_due - make_interval(mins => %(remind)s)))
    END
FROM generate_series(1, %(n)s) AS g
CROSS JOIN LATERAL (
    SELECT s.*,
        CASE WHEN s.status IN ('new', 'waiting_hours') THEN s.fr_due
             WHEN s.status = 'in_progress' THEN s.res_due END AS sla_due,
        CASE s.status WHEN 'closed' THEN 4 WHEN 'resolved' THEN 3 WHEN 'in_progress' THEN 2
             ELSE 1 END AS version
    FROM (
        SELECT
            'Order ' || (100000 + g) || ': parcel not delivered yet' AS title,
            'The customer writes that the parcel for order ' || (100000 + g) ||
                ' has not arrived. Tracking shows it left the warehouse.' AS description,
            m.group_id, COALESCE(m.shop_id, (%(shops)s::bigint[])[1 + abs(hashint4(g + 4)) %% 3])
                AS shop_id,
            (%(types)s::bigint[])[1 + abs(hashint4(g + 5)) %% %(ntypes)s] AS type_id,
            (%(categories)s::bigint[])[1 + abs(hashint4(g + 5)) %% %(ntypes)s] AS category_id,
            (%(priorities)s::text[])[1 + abs(hashint4(g + 3)) %% 4] AS priority,
            st.status,
            CASE WHEN st.status IN ('new', 'waiting_hours') THEN NULL
                 ELSE m.members[1 + abs(hashint4(g + 1)) %% %(per_group)s] END AS assignee_id,
            (%(customers)s::bigint[])[1 + abs(hashint4(g + 6)) %% %(ncustomers)s] AS customer_id,
            c.created_at,
            c.created_at + make_interval(mins => %(first_response)s) AS fr_due,
            c.created_at + make_interval(mins => %(resolution)s) AS res_due,
            CASE WHEN st.status IN ('new', 'waiting_hours') THEN NULL
                 ELSE c.created_at + interval '1 minute' END AS assigned_at,
            CASE WHEN st.status IN ('in_progress', 'resolved', 'closed')
                 THEN c.created_at + interval '10 minutes' END AS first_response_at,
            CASE WHEN st.status IN ('resolved', 'closed')
                 THEN c.created_at + interval '3 hours' END AS resolved_at,
            CASE WHEN st.status = 'closed' THEN c.created_at + interval '1 day' END AS closed_at,
            LEAST(now(), c.created_at + CASE st.status
                WHEN 'closed' THEN interval '1 day' WHEN 'resolved' THEN interval '3 hours'
                WHEN 'in_progress' THEN interval '10 minutes' ELSE interval '0' END) AS updated_at
        FROM (SELECT now() - make_interval(secs => (%(n)s - g) * 60) AS created_at) AS c,
             (SELECT (%(statuses)s::text[])[1 + abs(hashint4(g + 2)) %% 20] AS status) AS st,
             bench_group_map m
        WHERE m.idx = abs(hashint4(g)) %% %(ngroups)s
    ) AS s
) AS t
"""

NODES_SQL = """
INSERT INTO tickets_ticketnode (ticket_id, action, status, comment, created_at, actor_id,
    assignee_id, group_id)
SELECT id, 'create', 'new', '', created_at, submitter_id, NULL, group_id FROM tickets_ticket
UNION ALL
SELECT id, 'assign', 'assigned', '', assigned_at, NULL, assignee_id, group_id
FROM tickets_ticket WHERE assignee_id IS NOT NULL
ORDER BY 1, 5
"""


def seed(conn: psycopg.Connection[Any], n: int, log: Any) -> None:
    """Bring Kefu's tickets tables to exactly n tickets (autocommit connection)."""
    started = time.monotonic()
    have = ticket_count(conn)
    log(f"Kefu: seeding {n:,} tickets (found {have:,})")
    with conn.transaction():
        groups = _setup_people(conn)
    submitter = _one(conn, "SELECT id FROM agents_user WHERE username = 'agent1'")
    pol = conn.execute(
        "SELECT id, first_response_minutes, resolution_minutes, remind_before_minutes"
        " FROM tickets_slapolicy WHERE name = 'Standard'"
    ).fetchone()
    assert pol and submitter, "run seed_demo first (Standard policy, agent1)"
    types = conn.execute(
        "SELECT id, category_id FROM tickets_tickettype ORDER BY position, id"
    ).fetchall()
    customers = [r[0] for r in conn.execute("SELECT id FROM commerce_customer ORDER BY id")]
    shops = [r[0] for r in conn.execute("SELECT id FROM agents_shop ORDER BY id")][:2]
    index_defs = conn.execute(
        "SELECT indexname, indexdef FROM pg_indexes WHERE tablename IN"
        " ('tickets_ticket', 'tickets_ticketnode') AND indexname NOT LIKE '%_pkey'"
    ).fetchall()
    with conn.transaction():
        conn.execute("SET LOCAL synchronous_commit = off")
        conn.execute("SET LOCAL maintenance_work_mem = '256MB'")
        conn.execute("SET LOCAL session_replication_role = replica")
        conn.execute(
            "TRUNCATE tickets_ticket, tickets_ticketnode, tickets_ticketattachment,"
            " tickets_slaevent, tickets_ticket_watchers RESTART IDENTITY CASCADE"
        )
        for name, _ in index_defs:
            conn.execute(f'DROP INDEX "{name}"')
        conn.execute(
            "CREATE TEMP TABLE bench_group_map (idx int, group_id bigint, shop_id bigint,"
            " members bigint[]) ON COMMIT DROP"
        )
        for idx, (gid, shop, members) in enumerate(groups):
            conn.execute(
                "INSERT INTO bench_group_map VALUES (%s, %s, %s, %s)", [idx, gid, shop, members]
            )
        conn.execute(
            TICKETS_SQL,
            {
                "n": n,
                "submitter": submitter,
                "policy": pol[0],
                "first_response": pol[1],
                "resolution": pol[2],
                "remind": pol[3],
                "shops": [None, *shops],
                "types": [t[0] for t in types],
                "categories": [t[1] for t in types],
                "ntypes": len(types),
                "priorities": PRIORITIES,
                "statuses": STATUS_SLOTS,
                "customers": customers,
                "ncustomers": len(customers),
                "per_group": MEMBERS_PER_GROUP,
                "ngroups": N_GROUPS,
            },
        )
        log(f"Kefu: tickets inserted ({time.monotonic() - started:.0f} s)")
        conn.execute(NODES_SQL)
        log(f"Kefu: nodes inserted ({time.monotonic() - started:.0f} s)")
        for _name, definition in index_defs:
            conn.execute(definition)
        log(f"Kefu: indexes rebuilt ({time.monotonic() - started:.0f} s)")
        for table in ("tickets_ticket", "tickets_ticketnode"):
            conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
                f" (SELECT max(id) FROM {table}))"
            )
    for table in ("tickets_ticket", "tickets_ticketnode", "agents_groupmembership"):
        conn.execute(f"VACUUM ANALYZE {table}")
    log(f"Kefu: seeded {n:,} tickets in {time.monotonic() - started:.0f} s")
