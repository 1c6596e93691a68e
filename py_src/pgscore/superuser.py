"""What a superuser does not write: a table whose writes would run code of roles that are not superusers.

An UPDATE (or INSERT) runs the table's triggers, its checks and its indexes' expressions as the role that
writes it. A function a role owns is one that role may replace: a superuser that writes a table whose owner,
or whose triggers' functions' owner (or the owner of a function its defaults, generated columns, indexes,
constraints, rules or columns' domains call, or of such a domain), is not a superuser runs that role's code as a
superuser, and that role can make itself one (ALTER ROLE ... SUPERUSER in its trigger). Every path of pgscore
that writes a table it does not own as its caller asks others_code first: retry_failed, backfill_rescoring,
rescore_profiles, refresh_windows and the rescoring trigger (rescoring.py), score_table and score_chunk (batch.py)."""

from __future__ import annotations

# whether the caller (CURRENT_USER: SET ROLE and SECURITY DEFINER change it) is a superuser: one row of pg_authid,
# a statement without parameters, planned once a session (the rescoring trigger asks at each statement); and whether
# the transaction reads the catalog through a snapshot of its own (REPEATABLE READ, SERIALIZABLE), taken before the
# write's lock: a trigger committed after it the write runs, and the question below does not see
_SUPERUSER = ("SELECT u.rolsuper AS s, u.rolsuper AND pg_catalog.current_setting('transaction_isolation') "
              "OPERATOR(pg_catalog.=) ANY ('{repeatable read,serializable}'::pg_catalog.text[]) AS old "
              "FROM pg_catalog.pg_roles u "
              "WHERE u.rolname OPERATOR(pg_catalog.=) CURRENT_USER")
# what the objects {deps} (rows x(refclassid, refobjid) of pg_depend) make a write call, as rows e(k, o): 'f' a
# function (one named, an operator's, an operator class's support function or operator's: an index's comparisons
# call them), 'r' a relation (its owner named but of a table, a partitioned table, a materialized view or a sequence,
# whose reading runs none of its owner's code: review r1 of session 64), 'w' a
# view's rule (what its columns call; session 64), 't' a type (what it calls: a range's subtype operator class, whose
# support function compares the bounds of each range value made or indexed, its subtype_diff, which a GiST index
# calls; a multirange's range, an array's element, a domain's base type, a composite type's attributes' types:
# review r1 of session 64)
_EDGES = (
    "SELECT e.k, e.o FROM ({deps}) AS x, LATERAL (SELECT 'f'::pg_catalog.text AS k, x.refobjid AS o "
    "WHERE x.refclassid OPERATOR(pg_catalog.=) 1255 "
    "UNION ALL SELECT 'f', r.oprcode::pg_catalog.oid FROM pg_catalog.pg_operator r "
    "WHERE x.refclassid OPERATOR(pg_catalog.=) 2617 AND r.oid OPERATOR(pg_catalog.=) x.refobjid "
    "UNION ALL SELECT 'f', a.amproc::pg_catalog.oid FROM pg_catalog.pg_amproc a "
    "WHERE x.refclassid OPERATOR(pg_catalog.=) 2616 AND a.amprocfamily OPERATOR(pg_catalog.=) (SELECT k.opcfamily "
    "FROM pg_catalog.pg_opclass k WHERE k.oid OPERATOR(pg_catalog.=) x.refobjid) "
    "UNION ALL SELECT 'f', r.oprcode::pg_catalog.oid FROM pg_catalog.pg_amop a JOIN pg_catalog.pg_operator r "
    "ON r.oid OPERATOR(pg_catalog.=) a.amopopr WHERE x.refclassid OPERATOR(pg_catalog.=) 2616 "
    "AND a.amopfamily OPERATOR(pg_catalog.=) (SELECT k.opcfamily FROM pg_catalog.pg_opclass k "
    "WHERE k.oid OPERATOR(pg_catalog.=) x.refobjid) "
    "UNION ALL SELECT 'r', x.refobjid WHERE x.refclassid OPERATOR(pg_catalog.=) 1259 "
    "UNION ALL SELECT 't', x.refobjid WHERE x.refclassid OPERATOR(pg_catalog.=) 1247 "
    "UNION ALL SELECT 'w', w.oid FROM pg_catalog.pg_rewrite w WHERE x.refclassid OPERATOR(pg_catalog.=) 1259 "
    "AND w.ev_class OPERATOR(pg_catalog.=) x.refobjid) AS e")
# the relations a body's write of the relation (w.m[1]) lands in, as rows pt(r): itself; a view's base relations, the
# relations its _RETURN rule depends on (an auto-updatable view's write is rewritten into one of its base relation,
# whose DEFAULTs, CHECKs, indexes and triggers it runs: session 69, h4, from session 68's reviews; every relation
# the rule names, a view of a view's too, more than the one written, which a refusal errs on the side of); the
# relations its other rules' actions write (locked ROW EXCLUSIVE in the action's parse tree, as in a body's: a view's
# DO INSTEAD INSERT INTO another table, a table's DO ALSO one, which runs that table's triggers as the writer:
# session 69, r1); and each one's partitions (pg_partition_tree: itself for a plain table, nothing for a view)
_WRITTEN = (
    "WITH RECURSIVE v(r) AS (SELECT (w.m[1])::pg_catalog.oid "
    "UNION SELECT n.r FROM v CROSS JOIN LATERAL (SELECT x.refobjid AS r FROM pg_catalog.pg_rewrite rw "
    "JOIN pg_catalog.pg_depend x ON x.classid OPERATOR(pg_catalog.=) 2618 AND x.objid OPERATOR(pg_catalog.=) rw.oid "
    "AND x.refclassid OPERATOR(pg_catalog.=) 1259 AND x.refobjid OPERATOR(pg_catalog.<>) v.r "
    "WHERE rw.ev_class OPERATOR(pg_catalog.=) v.r AND rw.rulename OPERATOR(pg_catalog.=) '_RETURN' "
    "UNION ALL SELECT (a.m[1])::pg_catalog.oid FROM pg_catalog.pg_rewrite rw "
    "CROSS JOIN LATERAL pg_catalog.regexp_matches(rw.ev_action::pg_catalog.text, "
    "':relid ([0-9]+) :relkind [a-z] :rellockmode 3 ', 'g') AS a(m) "
    "WHERE rw.ev_class OPERATOR(pg_catalog.=) v.r AND rw.rulename OPERATOR(pg_catalog.<>) '_RETURN') AS n) "
    "SELECT v.r FROM v UNION SELECT q.relid::pg_catalog.oid FROM v, "
    "LATERAL pg_catalog.pg_partition_tree(v.r::pg_catalog.regclass) AS q")
# the roles that are not superusers whose code a write of the tables @ runs (an array of constants: with a
# parameter, the statement was planned anew at each call; run by a superuser alone, who reads pg_authid): the
# tables' owners; the owners of the functions their objects call, as pg_depend records them (enabled triggers'
# functions and WHEN conditions, columns' DEFAULTs and generation expressions, indexes' expressions and predicates,
# CHECK and other constraints, rules, partition keys; an operator's function), evaluated in an INSERT or UPDATE as
# the writing role; what those functions call in turn where pg_depend records it (a BEGIN ATOMIC body; a view the
# counters read: what its columns call), and an index's or partition key's operator class that is not built in (its
# support functions, its operators' functions: they compare each entry the write adds) (session 64; a string body,
# PL/pgSQL's, is not read: nothing records what it calls, resolved as it runs); the domains of their columns
# (pg_depend's rows of a column on its type: a domain is never pinned), of those domains' base domains and of arrays
# of them, with the functions of their CHECKs, and their owners, who may add a CHECK (session 63); the owners of any
# type of the columns (and of the counters' values, {types}), who may add a cast from or to it that a write's
# assignment runs (review r2 of session 63). Row-level security policies are left out: a superuser bypasses them.
# {may}: in a transaction of its own snapshot, the roles that may add a trigger.
# (The catalogs by their fixed oids: pg_class 1259, pg_trigger 2620, pg_attrdef 2604, pg_constraint 2606, pg_rewrite
# 2618, pg_proc 1255, pg_operator 2617, pg_type 1247; each object's dependencies read by pg_depend's index on the
# depender: the columns' types so too, where pg_attribute joined to pg_type cost 0.2 ms a call)
_CODE = (
    "WITH RECURSIVE d(oid, owner, base) AS (SELECT t.oid, t.typowner, t.typbasetype FROM pg_catalog.pg_depend x "
    "JOIN pg_catalog.pg_type e ON e.oid OPERATOR(pg_catalog.=) x.refobjid JOIN pg_catalog.pg_type t "
    "ON t.oid OPERATOR(pg_catalog.=) ANY (ARRAY[e.oid, e.typelem]) AND t.typtype OPERATOR(pg_catalog.=) 'd' "
    "WHERE x.classid OPERATOR(pg_catalog.=) 1259 AND x.objid OPERATOR(pg_catalog.=) ANY (@) "
    "AND x.refclassid OPERATOR(pg_catalog.=) 1247 "
    "UNION ALL SELECT t.oid, t.typowner, t.typbasetype FROM pg_catalog.pg_type t "
    "WHERE t.oid OPERATOR(pg_catalog.=) ANY ({types}) AND t.typtype OPERATOR(pg_catalog.=) 'd' "
    "UNION SELECT t.oid, t.typowner, t.typbasetype FROM d, LATERAL (SELECT t.oid, t.typowner, t.typbasetype "
    "FROM pg_catalog.pg_type t WHERE t.oid OPERATOR(pg_catalog.=) d.base "
    "AND t.typtype OPERATOR(pg_catalog.=) 'd' OFFSET 0) AS t), "
    "o(classid, objid) AS (SELECT 1259::pg_catalog.oid, t.o FROM pg_catalog.unnest(@) AS t(o) "
    "UNION ALL SELECT 2620::pg_catalog.oid, g.oid FROM pg_catalog.pg_trigger g "
    "WHERE g.tgrelid OPERATOR(pg_catalog.=) ANY (@) AND g.tgenabled OPERATOR(pg_catalog.<>) 'D' "
    "UNION ALL SELECT 2604::pg_catalog.oid, f.oid FROM pg_catalog.pg_attrdef f "
    "WHERE f.adrelid OPERATOR(pg_catalog.=) ANY (@) "
    "UNION ALL SELECT 1259::pg_catalog.oid, i.indexrelid FROM pg_catalog.pg_index i "
    "WHERE i.indrelid OPERATOR(pg_catalog.=) ANY (@) "
    "UNION ALL SELECT 2606::pg_catalog.oid, k.oid FROM pg_catalog.pg_constraint k "
    "WHERE k.conrelid OPERATOR(pg_catalog.=) ANY (@) "
    "UNION ALL SELECT 2606::pg_catalog.oid, k.oid FROM d, LATERAL (SELECT k.oid FROM pg_catalog.pg_constraint k "
    "WHERE k.contypid OPERATOR(pg_catalog.=) d.oid) AS k "
    "UNION ALL SELECT 2618::pg_catalog.oid, w.oid FROM pg_catalog.pg_rewrite w "
    "WHERE w.ev_class OPERATOR(pg_catalog.=) ANY (@)), "
    # g: one row per step, the functions (fs), views' rules (ws) and types (ts) seen, and those new at the step (nf,
    # nw, nt; nr the relations): rows of (class, oid) recursed over were estimated past jit_above_cost (1.2 million),
    # which JIT then compiled at each statement (2 s). (Its cost grows with the tables' partitions and indexes: 128,000
    # at 1,000 partitions of 4 indexes each; every function that asks it is declared SET jit = off)
    "g(fs, ws, ts, nf, nw, nt, nr) AS (SELECT s.f, s.w, s.t, s.f, s.w, s.t, '{}'::pg_catalog.oid[] FROM (SELECT "
    "pg_catalog.array_agg(DISTINCT e.o) FILTER (WHERE e.k OPERATOR(pg_catalog.=) 'f') AS f, "
    "pg_catalog.array_agg(DISTINCT e.o) FILTER (WHERE e.k OPERATOR(pg_catalog.=) 't') AS t FROM ("
    + _EDGES.replace("{deps}", "SELECT x.refclassid, x.refobjid FROM o, LATERAL (SELECT x.refclassid, "
                              "x.refobjid FROM pg_catalog.pg_depend x "
                              "WHERE x.classid OPERATOR(pg_catalog.=) o.classid "
                              "AND x.objid OPERATOR(pg_catalog.=) o.objid AND x.refclassid OPERATOR(pg_catalog.=) "
                              "ANY ('{1255,2617,2616,1247}'::pg_catalog.oid[]) OFFSET 0) AS x") + " "
    "UNION ALL SELECT 'f', pg_catalog.unnest({procs}) UNION ALL SELECT 't', pg_catalog.unnest({types})) AS e) AS s0, "
    "LATERAL (SELECT COALESCE(s0.f, '{}'::pg_catalog.oid[]) AS f, COALESCE(s0.t, '{}'::pg_catalog.oid[]) AS t, "
    "ARRAY(SELECT w.oid FROM pg_catalog.pg_rewrite w WHERE w.ev_class OPERATOR(pg_catalog.=) ANY ({rels})) AS w "
    "OFFSET 0) AS s "
    "UNION ALL SELECT g.fs OPERATOR(pg_catalog.||) s.f, g.ws OPERATOR(pg_catalog.||) s.w, "
    "g.ts OPERATOR(pg_catalog.||) s.t, s.f, s.w, s.t, s.r FROM g, "
    "LATERAL (SELECT pg_catalog.array_agg(DISTINCT e.o) FILTER (WHERE e.k OPERATOR(pg_catalog.=) 'f' "
    "AND e.o OPERATOR(pg_catalog.<>) ALL (g.fs)) AS f, pg_catalog.array_agg(DISTINCT e.o) FILTER (WHERE e.k "
    "OPERATOR(pg_catalog.=) 'w' AND e.o OPERATOR(pg_catalog.<>) ALL (g.ws)) AS w, pg_catalog.array_agg(DISTINCT e.o) "
    "FILTER (WHERE e.k OPERATOR(pg_catalog.=) 't' AND e.o OPERATOR(pg_catalog.<>) ALL (g.ts)) AS t, "
    "pg_catalog.array_agg(DISTINCT e.o) FILTER (WHERE e.k OPERATOR(pg_catalog.=) 'r') AS r FROM ("
    + _EDGES.replace("{deps}", "SELECT x.refclassid, x.refobjid FROM pg_catalog.pg_depend x "
                     "WHERE x.classid OPERATOR(pg_catalog.=) 1255 AND x.objid OPERATOR(pg_catalog.=) ANY (g.nf) "
                     "AND x.refclassid OPERATOR(pg_catalog.=) ANY ('{1255,2617,2616,1259,1247}'::pg_catalog.oid[]) "
                     "UNION ALL SELECT x.refclassid, x.refobjid FROM pg_catalog.pg_depend x "
                     "WHERE x.classid OPERATOR(pg_catalog.=) 2618 AND x.objid OPERATOR(pg_catalog.=) ANY (g.nw) "
                     "AND x.refclassid OPERATOR(pg_catalog.=) ANY ('{1255,2617,2616,1259,1247}'::pg_catalog.oid[]) "
                     "UNION ALL SELECT x.refclassid, x.refobjid FROM pg_catalog.pg_depend x "
                     "WHERE x.classid OPERATOR(pg_catalog.=) 1247 AND x.objid OPERATOR(pg_catalog.=) ANY (g.nt) "
                     "AND x.refclassid OPERATOR(pg_catalog.=) ANY ('{1255,2617,2616,1247}'::pg_catalog.oid[]) "
                     # a domain's CHECKs' functions (a domain reached by the walk: one a BEGIN ATOMIC body casts to;
                     # session 66, h6: those of the columns' domains alone were read, in d)
                     "UNION ALL SELECT x.refclassid, x.refobjid FROM pg_catalog.pg_constraint k JOIN pg_catalog.pg_depend x "
                     "ON x.classid OPERATOR(pg_catalog.=) 2606 AND x.objid OPERATOR(pg_catalog.=) k.oid "
                     "WHERE k.contypid OPERATOR(pg_catalog.=) ANY (g.nt) "
                     "AND x.refclassid OPERATOR(pg_catalog.=) ANY ('{1255,2617,2616,1247}'::pg_catalog.oid[]) "
                     # a composite type's attributes' types (its relation's columns')
                     "UNION ALL SELECT x.refclassid, x.refobjid FROM pg_catalog.pg_type y JOIN pg_catalog.pg_depend x "
                     "ON x.classid OPERATOR(pg_catalog.=) 1259 AND x.objid OPERATOR(pg_catalog.=) y.typrelid "
                     "WHERE y.oid OPERATOR(pg_catalog.=) ANY (g.nt) AND y.typrelid OPERATOR(pg_catalog.<>) 0 "
                     "AND x.refclassid OPERATOR(pg_catalog.=) 1247 "
                     # the enabled triggers' functions of a table a BEGIN ATOMIC body writes, which its write runs
                     # as the writing role (session 67, h6: a superuser's body that inserted into the app's table ran
                     # the app's trigger as the superuser): the tables of its parse tree locked ROW EXCLUSIVE
                     # (rellockmode 3: an INSERT's, UPDATE's, DELETE's or MERGE's target, in a data-modifying WITH
                     # too), pg_depend recording every table a body names, not which it writes (review r3: every
                     # table of a body that wrote one was taken as written, and a body that wrote its own table and
                     # read the app's, whose trigger the read runs not, queued every profile)
                     "UNION ALL SELECT 1255::pg_catalog.oid, t.tgfoid FROM pg_catalog.pg_proc p "
                     "CROSS JOIN LATERAL pg_catalog.regexp_matches(p.prosqlbody::pg_catalog.text, "
                     "':relid ([0-9]+) :relkind [a-z] :rellockmode 3 ', 'g') AS w(m) "
                     "CROSS JOIN LATERAL (" + _WRITTEN + ") AS pt "
                     "JOIN pg_catalog.pg_trigger t ON t.tgrelid OPERATOR(pg_catalog.=) pt.r "
                     "AND t.tgenabled OPERATOR(pg_catalog.<>) 'D' "
                     "WHERE p.oid OPERATOR(pg_catalog.=) ANY (g.nf) AND p.prosqlbody IS NOT NULL "
                     # (session 68, h6) and what else such a write runs as the writing role: the written table's
                     # columns' DEFAULTs and types (domains), its CHECKs and other constraints, its indexes'
                     # expressions and predicates, its rules, as for the tables @ (o above); the triggers alone were
                     # read, and a superuser's body that inserted into its own table whose DEFAULT called the app's
                     # function ran it as the superuser. (review r6 of session 68) each of the written table's
                     # partitions too (pg_partition_tree: but itself for a plain table, nothing for a view), where
                     # the row lands and whose CHECKs, indexes and row triggers the write runs: the parent alone
                     # was read, and a partition's CHECK, index expression or trigger calling the app's function
                     # ran as the superuser
                     "UNION ALL SELECT x.refclassid, x.refobjid FROM pg_catalog.pg_proc p "
                     "CROSS JOIN LATERAL pg_catalog.regexp_matches(p.prosqlbody::pg_catalog.text, "
                     "':relid ([0-9]+) :relkind [a-z] :rellockmode 3 ', 'g') AS w(m) "
                     "CROSS JOIN LATERAL (" + _WRITTEN + ") AS pt "
                     "CROSS JOIN LATERAL (SELECT 1259::pg_catalog.oid AS c, pt.r AS o "
                     "UNION ALL SELECT 2604::pg_catalog.oid, f.oid FROM pg_catalog.pg_attrdef f "
                     "WHERE f.adrelid OPERATOR(pg_catalog.=) pt.r "
                     "UNION ALL SELECT 2606::pg_catalog.oid, k.oid FROM pg_catalog.pg_constraint k "
                     "WHERE k.conrelid OPERATOR(pg_catalog.=) pt.r "
                     "UNION ALL SELECT 1259::pg_catalog.oid, i.indexrelid FROM pg_catalog.pg_index i "
                     "WHERE i.indrelid OPERATOR(pg_catalog.=) pt.r "
                     "UNION ALL SELECT 2618::pg_catalog.oid, r.oid FROM pg_catalog.pg_rewrite r "
                     "WHERE r.ev_class OPERATOR(pg_catalog.=) pt.r) AS o "
                     "JOIN pg_catalog.pg_depend x ON x.classid OPERATOR(pg_catalog.=) o.c "
                     "AND x.objid OPERATOR(pg_catalog.=) o.o "
                     "AND x.refclassid OPERATOR(pg_catalog.=) ANY ('{1255,2617,2616,1247}'::pg_catalog.oid[]) "
                     "WHERE p.oid OPERATOR(pg_catalog.=) ANY (g.nf) AND p.prosqlbody IS NOT NULL") +
    ") AS e) AS s WHERE pg_catalog.cardinality(g.nf) OPERATOR(pg_catalog.>) 0 "
    "OR pg_catalog.cardinality(g.nw) OPERATOR(pg_catalog.>) 0 "
    "OR pg_catalog.cardinality(g.nt) OPERATOR(pg_catalog.>) 0) "
    "SELECT pg_catalog.array_agg(r.rolname::pg_catalog.text OPERATOR(pg_catalog.||) CASE WHEN y.may "
    "THEN ' (' OPERATOR(pg_catalog.||) y.why OPERATOR(pg_catalog.||) ')' ELSE '' END) AS roles FROM (SELECT x.o, "
    "pg_catalog.bool_and(x.why IS NOT NULL) AS may, pg_catalog.string_agg(DISTINCT x.why, '; ') AS why FROM ("
    "SELECT c.relowner AS o, NULL::pg_catalog.text AS why FROM pg_catalog.pg_class c "
    "WHERE c.oid OPERATOR(pg_catalog.=) ANY (@) "
    "UNION ALL SELECT p.proowner, NULL FROM pg_catalog.pg_trigger g JOIN pg_catalog.pg_proc p "
    "ON p.oid OPERATOR(pg_catalog.=) g.tgfoid WHERE g.tgrelid OPERATOR(pg_catalog.=) ANY (@) "
    "AND g.tgenabled OPERATOR(pg_catalog.<>) 'D' "
    "UNION ALL SELECT p.proowner, NULL FROM pg_catalog.pg_proc p WHERE p.oid OPERATOR(pg_catalog.=) "
    "ANY (ARRAY(SELECT pg_catalog.unnest(g.nf) FROM g)) "
    "UNION ALL SELECT r.relowner, NULL FROM pg_catalog.pg_class r WHERE r.oid OPERATOR(pg_catalog.=) "
    "ANY (ARRAY(SELECT pg_catalog.unnest(g.nr) FROM g)) "
    "AND r.relkind OPERATOR(pg_catalog.<>) ALL ('{r,p,m,S}'::pg_catalog.\"char\"[]) "
    "UNION ALL SELECT c.relowner, NULL FROM pg_catalog.pg_class c WHERE c.oid OPERATOR(pg_catalog.=) ANY ({rels}) "
    "UNION ALL SELECT d.owner, NULL FROM d "
    # the owners of the domains the walk reached, who may add a CHECK to one (session 66, h6)
    "UNION ALL SELECT t.typowner, NULL FROM pg_catalog.pg_type t WHERE t.oid OPERATOR(pg_catalog.=) "
    "ANY (ARRAY(SELECT pg_catalog.unnest(g.nt) FROM g)) AND t.typtype OPERATOR(pg_catalog.=) 'd' "
    "UNION ALL SELECT t.typowner, NULL FROM pg_catalog.pg_type t WHERE t.oid OPERATOR(pg_catalog.=) ANY ({types}) "
    "OR t.oid OPERATOR(pg_catalog.=) ANY (ARRAY(SELECT x.refobjid FROM pg_catalog.pg_depend x "
    "WHERE x.classid OPERATOR(pg_catalog.=) 1259 AND x.objid OPERATOR(pg_catalog.=) ANY (@) "
    "AND x.refclassid OPERATOR(pg_catalog.=) 1247)) "
    # a role (not a superuser) that may CREATE in the schema of a function (an operator's) the counters call may add
    # an overload of it, a closer match, that the trigger's plan, analysed again, calls: after the counters were
    # read, once a session (review r2 of session 63)
    "UNION ALL SELECT a.oid, 'may create a function in schema ' OPERATOR(pg_catalog.||) "
    "pg_catalog.quote_ident(n.nspname) OPERATOR(pg_catalog.||) ' that its counters would call in place of theirs' "
    # (pg_database_owner, the owner of public, stands for the database's owner, asked as itself)
    "FROM pg_catalog.pg_namespace n JOIN pg_catalog.pg_authid a ON NOT a.rolsuper "
    "AND a.rolname OPERATOR(pg_catalog.<>) 'pg_database_owner' "
    "AND pg_catalog.has_schema_privilege(a.oid, n.oid, 'CREATE') "
    "WHERE n.oid OPERATOR(pg_catalog.=) ANY (ARRAY(SELECT p.pronamespace FROM pg_catalog.pg_proc p "
    "WHERE p.oid OPERATOR(pg_catalog.=) ANY ({procs}))){may}) AS x GROUP BY x.o) AS y "
    "JOIN pg_catalog.pg_authid r ON r.oid OPERATOR(pg_catalog.=) y.o WHERE NOT r.rolsuper")
# in a transaction of its own snapshot (REPEATABLE READ, SERIALIZABLE), also each role that is not a superuser and
# may add a trigger to the tables now (TRIGGER; or its grant option, which the owner and its members hold even where
# it revoked its own TRIGGER, as it may grant that back): has_table_privilege reads the table's owner and ACL and the
# roles' memberships through the system cache, which reads the catalog as of now (after the lock: what the write's
# relcache holds), not through the transaction's snapshot. Said as such: such a role's trigger may be there or not
MAY_ADD = ("may add a trigger, which this REPEATABLE READ or SERIALIZABLE transaction's snapshot would not see: "
           "write in a READ COMMITTED one")
_MAY_ADD = (" UNION ALL SELECT a.oid, '{said}' FROM pg_catalog.pg_authid a WHERE NOT a.rolsuper "
            "AND EXISTS (SELECT FROM pg_catalog.unnest(@) AS t(o) WHERE pg_catalog.has_table_privilege(a.oid, t.o, "
            "'TRIGGER, TRIGGER WITH GRANT OPTION'))")
_OTHERS_CODE = _CODE.replace("{may}", "")
_OTHERS_CODE_OLD_SNAPSHOT = _CODE.replace("{may}", _MAY_ADD.replace("{said}", MAY_ADD.replace("'", "''")))
# a table and its partitions (pg_partition_tree: none for a plain table)
_TREE = ("SELECT $1 OPERATOR(pg_catalog.||) ARRAY(SELECT p.relid::pg_catalog.oid FROM "
         "pg_catalog.pg_partition_tree($1) AS p WHERE p.relid OPERATOR(pg_catalog.<>) $1) AS oids")
# the tables' names, to take the lock their write takes (ROW EXCLUSIVE) before they are asked about (tables alone:
# a materialized view or a view given to score_table is refused after, by its own words, not LOCK's 42809)
_NAMES = ("SELECT pg_catalog.format('%I.%I', n.nspname, c.relname) AS name FROM pg_catalog.pg_class c "
          "JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace "
          "WHERE c.oid OPERATOR(pg_catalog.=) ANY ($1::pg_catalog.oid[]) "
          "AND c.relkind OPERATOR(pg_catalog.=) ANY ('{r,p,f}'::pg_catalog.\"char\"[]) ORDER BY c.oid")
_PLANS = "pgscore.others_code"
PLANS_KEPT = 64  # the tables (sets of oids) whose question a session keeps prepared


def _oids(values) -> str:
    """An oid[] of constants, for a question planned once per set of them."""
    return "ARRAY[" + ", ".join(f"{int(o)}::pg_catalog.oid" for o in values) + "]::pg_catalog.oid[]"


def others_code(plpy, GD, oids, more=None) -> list[str]:
    """The roles, not superusers, whose code a superuser's write of the tables `oids` (a table and its
    partitions, tree(); or a callable that returns them, called for a superuser alone) would run as the
    superuser, sorted; empty for a caller that is no superuser. That is asked first, by a statement of its own
    (about 10 us: the rescoring trigger asks at each statement); the tables' question is a statement per set of
    tables, their oids as constants (with them as a parameter it was planned anew at each call, 0.4 to 1.5 ms).
    In a REPEATABLE READ or SERIALIZABLE transaction the catalog read is its snapshot's, older than the write's
    lock, so the roles that may add a trigger to the tables now are named too (MAY_ADD): such a transaction of a
    superuser writes a table no role that is not a superuser may add a trigger to (session 63). `more`: a callable
    (called for a superuser alone) that returns further code the write runs, {"procs", "rels", "types"} of oids
    (functions, views, domains: a wiring's counters', rescoring.counter_code), whose owners are named too; or
    {"unread": why}, said after the roles."""
    plans = GD.setdefault(_PLANS, {})
    if None not in plans:
        plans[None] = plpy.prepare(_SUPERUSER)
    caller = plans[None].execute()[0]
    if not caller["s"]:
        return []
    old = bool(caller["old"])
    key = tuple(sorted({int(o) for o in (oids() if callable(oids) else oids)}))
    extra = more() if more is not None else {}
    unread = [extra["unread"]] if extra.get("unread") else []
    extra = tuple(tuple(sorted({int(o) for o in extra.get(k) or ()})) for k in ("procs", "rels", "types"))
    # the lock the write takes, taken first: a trigger made (CREATE TRIGGER waits for it) in a transaction that
    # commits after the question was read, before the write had the lock, fired as the superuser (review r4 of
    # session 62). With it held, a statement after it (READ COMMITTED) reads the catalog the write will run with
    names = [r["name"] for r in plpy.execute(plpy.prepare(_NAMES, ["pg_catalog.oid[]"]), [list(key)])]
    if names:
        plpy.execute(f"LOCK TABLE ONLY {', '.join(names)} IN ROW EXCLUSIVE MODE")
    plan = plans.get((key, old, extra))
    if plan is None:
        while len(plans) > PLANS_KEPT:
            del plans[next(k for k in plans if k is not None)]
        question = (_OTHERS_CODE_OLD_SNAPSHOT if old else _OTHERS_CODE).replace("@", _oids(key))
        for name, values in zip(("procs", "rels", "types"), extra):
            question = question.replace("{" + name + "}", _oids(values))
        plan = plans[(key, old, extra)] = plpy.prepare(question)
    return sorted(plan.execute()[0]["roles"] or []) + unread


def tree(plpy, oid) -> list[int]:
    """The table `oid` and its partitions, as they are now."""
    return plpy.execute(plpy.prepare(_TREE, ["pg_catalog.oid"]), [oid])[0]["oids"]


def said(table, others) -> str:
    """Why a superuser does not write `table` (its name as regclass prints it), for a message."""
    return (f"a superuser does not write {table}, whose owner, triggers or other code (defaults, indexes, "
            "constraints, domains: the functions they call) belong to roles that are not: "
            f"{', '.join(others)} (their code would run as the superuser, and could make them superusers)")


def way_out(do) -> str:
    """The hint: `do` (what to run) as a role that is not a superuser."""
    return (f"{do} as a role that is not a superuser, granted pgscore_app and the table's privileges: its owner, "
            "say (its own login, or SET ROLE to it in the superuser's session, then RESET ROLE)")
