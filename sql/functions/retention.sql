/*
 * Features kept for less time than decisions (migration 0141): the rows logged before the UTC day that holds
 * now() - p_older_than keep their model, score, label, source, cause, entity key and time, and lose their
 * features (an empty array). Set-based, one partition after another from the oldest, at most p_limit rows a call
 * (call it again until it returns fewer); the partitions of the days before the cut of the last call that left no
 * row are not read again (p_recheck reads them: rows logged back-dated into such a day after it). The only UPDATE
 * the log's append-only trigger lets through: the call is recorded in pgscore.log_retention first, and the trigger
 * lets a row's features go alone, of a row before the cut of a redaction of its own transaction.
 */
CREATE FUNCTION pgscore.redact_log_features(p_older_than interval, p_limit integer DEFAULT 100000,
                                            p_recheck boolean DEFAULT false)
RETURNS bigint
LANGUAGE plpgsql
VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
-- (0159) its NOTICE's cut, a UTC midnight, said in UTC and ISO, as drop_log_partitions' (trial T21)
SET DateStyle = 'ISO, YMD'
SET TimeZone = 'UTC'
-- (review r5) and its period in one IntervalStyle: log_retention kept `"older_than": "P200D"` of a role's
-- iso_8601, and the floor's refusal said `P10D ... P2Y`
SET IntervalStyle = 'postgres'
AS $fn$
DECLARE
    v_floor interval;
    v_floor_cut timestamptz;
    v_cut timestamptz;
    v_done timestamptz;
    v_id bigint;
    v_left bigint;
    v_n bigint;
    v_rows bigint := 0;
    v_parts integer := 0;
    v_part record;
BEGIN
    -- (session 66) a standby, or a read-only transaction, refuses its writes: said so, with where to run it, as
    -- record_outcome since 0154 (it was PostgreSQL's bare 25006, no hint)
    IF current_setting('transaction_read_only') = 'on' THEN
        PERFORM pgscore.refuse_read_only('pgscore.redact_log_features writes pgscore.prediction_log');
    END IF;
    -- a part of each sign (session 64): compared as an interval, a month is 30 days, and '-1 mon 31 days' (1 day
    -- to the comparison below) is none in a month of 31 days, its cut today's midnight
    IF extract(year FROM p_older_than) < 0 OR extract(month FROM p_older_than) < 0
       OR extract(day FROM p_older_than) < 0 OR extract(hour FROM p_older_than) < 0
       OR extract(minute FROM p_older_than) < 0 OR extract(second FROM p_older_than) < 0 THEN
        RAISE EXCEPTION 'pgscore.redact_log_features: p_older_than, how long features are kept, has a negative part (got %): a month is 28 to 31 days, so such a period is a different length on different dates', p_older_than
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'write the period in parts of one sign: ''2 years'', ''730 days'' or ''1 year 6 mons''';
    END IF;
    -- (every part positive or zero: a month is at least 28 days, so this comparison is exact)
    IF p_older_than IS NULL OR p_older_than < interval '1 day' THEN
        RAISE EXCEPTION 'pgscore.redact_log_features: p_older_than, how long features are kept, must be at least 1 day (got %)', p_older_than
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'features are kept for whole UTC days; a number without a unit is seconds: write ''2 years'', not ''2''';
    END IF;
    IF p_limit IS NULL OR p_limit < 1 OR p_recheck IS NULL THEN
        RAISE EXCEPTION 'pgscore.redact_log_features: p_limit, the rows redacted a call, must be at least 1 and p_recheck not NULL (got %, %)', p_limit, p_recheck
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'for example 100000: call it again until it returns fewer';
    END IF;
    SELECT p.keep_features INTO v_floor FROM pgscore.retention_policy p;
    -- the cuts: a period reaching back before 4713 BC, the earliest time PostgreSQL holds, is refused by name,
    -- and a floor that does keeps every day (session 64, review r2: each was a bare 22008 "timestamp out of range",
    -- and a floor of '10000 years' made every call fail so)
    BEGIN
        v_cut := date_trunc('day', (now() AT TIME ZONE 'UTC') - p_older_than) AT TIME ZONE 'UTC';
    EXCEPTION WHEN datetime_field_overflow THEN
        RAISE EXCEPTION 'pgscore.redact_log_features: p_older_than % reaches back before the earliest time PostgreSQL holds (4713 BC)', p_older_than
            USING ERRCODE = 'datetime_field_overflow',
                  HINT = 'for example ''90 days'' or ''7 years''; to keep every day, do not call it';
    END;
    BEGIN
        v_floor_cut := date_trunc('day', (now() AT TIME ZONE 'UTC') - v_floor) AT TIME ZONE 'UTC';
    EXCEPTION WHEN datetime_field_overflow THEN
        v_floor_cut := '-infinity';
    END;
    -- the floor is the day it cuts at, not an interval compared (a year compares as 360 days; review r6)
    IF v_cut > v_floor_cut THEN
        RAISE EXCEPTION 'pgscore.redact_log_features: p_older_than % is shorter than the floor of features'' retention, %', p_older_than, v_floor
            USING ERRCODE = 'insufficient_privilege',
                  HINT = 'pgscore.retention_policy.keep_features, which the owner of the pgscore schema alone may lower';
    END IF;
    -- as drop_log_partitions and create_log_partitions: one call at a time, and no day dropped or made meanwhile
    LOCK TABLE ONLY pgscore.prediction_log IN SHARE UPDATE EXCLUSIVE MODE;
    IF NOT p_recheck THEN
        SELECT max(r.cut) INTO v_done FROM pgscore.log_retention r
         WHERE r.action = 'redact' AND r.detail @> '{"complete": true}';
    END IF;
    -- recorded first: the append-only trigger lets through the rows before this cut, in this transaction alone
    INSERT INTO pgscore.log_retention (action, cut) VALUES ('redact', v_cut) RETURNING retention_id INTO v_id;
    v_left := p_limit;
    FOR v_part IN
        SELECT s.relname, s.day
          FROM (SELECT c.relname, to_date(right(c.relname, 8), 'YYYYMMDD') AS day
                  FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
                 WHERE i.inhparent = 'pgscore.prediction_log'::regclass AND c.relname ~ '^prediction_log_[0-9]{8}$'
                UNION ALL
                SELECT 'prediction_log_default'::name, NULL::date) s
         ORDER BY s.day NULLS FIRST
    LOOP
        EXIT WHEN v_left = 0;
        CONTINUE WHEN v_part.day IS NOT NULL AND (v_part.day::timestamp AT TIME ZONE 'UTC') >= v_cut;
        CONTINUE WHEN v_part.day IS NOT NULL AND ((v_part.day + 1)::timestamp AT TIME ZONE 'UTC') <= v_done;
        EXECUTE format('UPDATE pgscore.%I SET features = ''{}'' WHERE ctid = ANY (ARRAY(SELECT ctid FROM pgscore.%I '
                       'WHERE logged_at < $1 AND cardinality(features) > 0 LIMIT $2))', v_part.relname, v_part.relname)
            USING v_cut, v_left;
        GET DIAGNOSTICS v_n = ROW_COUNT;
        IF v_n > 0 THEN
            v_parts := v_parts + 1;
        END IF;
        v_rows := v_rows + v_n;
        v_left := v_left - v_n;
    END LOOP;
    RAISE NOTICE 'pgscore.redact_log_features: before %: % row(s) redacted in % partition(s); %', v_cut, v_rows, v_parts,
        CASE WHEN v_left > 0 THEN 'none left' ELSE 'more may remain: call it again' END;
    -- kept where it redacted rows, or where none is left before a newer cut than the last such call's
    IF v_rows > 0 OR (v_left > 0 AND v_cut > coalesce(v_done, '-infinity')) THEN
        UPDATE pgscore.log_retention
           SET rows = v_rows, detail = jsonb_build_object('partitions', v_parts, 'complete', v_left > 0,
                                                          'older_than', p_older_than::text)
         WHERE retention_id = v_id;
    ELSE
        DELETE FROM pgscore.log_retention WHERE retention_id = v_id;
    END IF;
    RETURN v_rows;
END
$fn$;
COMMENT ON FUNCTION pgscore.redact_log_features(interval, integer, boolean) IS 'Empty the features of at most p_limit rows of pgscore.prediction_log logged before the UTC day holding now() - p_older_than, keeping their decisions (model, score, label, source, cause, entity key, time); returns how many; p_older_than at least pgscore.retention_policy.keep_features; recorded in pgscore.log_retention (0141)';

/*
 * One entity erased (migration 0141: a customer's erasure, GDPR article 17): its rows in every pgscore table that
 * holds entity keys, of one model (p_model) or of all: the audit log, the outcomes and each version's prediction
 * they judge (outcome_version_matches, which has no key and outlived a DELETE of its outcome), the rescoring error
 * queue and the replicated events held back. Recorded in pgscore.log_retention with the key's SHA-256, never the
 * key. The drift rollups hold counts alone: the next refresh_monitoring re-reads the buckets whose rows went. The
 * entity's rows in the user's own tables (profiles, events) are the user's to delete.
 * Free text pgscore keeps that may name the key (session 64) is replaced where it holds the key (a whole token since
 * session 66: quoted as pgscore names a key, or bounded by no letter, digit or _, nor a quote but an apostrophe's;
 * a key longer than 1,000 characters as a substring): a shadow's last failure
 * message (pgscore.shadow_failures.last_message, an
 * error of the scoring, which may name the profile and its values) and the reason of another key's queued
 * rescoring (pgscore.error_queue.reason). Text people wrote (a deployment's, shadow's, silence's reason, a
 * model's description) is not read: an operator's to edit, where the append-only tables let them.
 * (session 65) A replicated event held back (pgscore.replicated_pending.event, the event row as JSON) holds its own
 * key, and goes with its row; another key's event that names this one in another column (a referrer) is a copy of
 * a row of the user's event table, folded and deleted by the next rescoring: not read. A model's words
 * (pgscore.models.text_categories) are what it was fitted on: a key trained into a model as a text feature's word
 * is in its artifact too, and stays with the version (a NOTICE names the versions: retrain without it); the
 * baselines hold numbers alone.
 */
CREATE FUNCTION pgscore.erase_entity(p_key text, p_model text DEFAULT NULL)
RETURNS TABLE (table_name text, rows bigint)
LANGUAGE plpgsql
VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    v_ids bigint[];
    v_wirings bigint[];
    v_log bigint;
    v_outcomes bigint;
    v_matches bigint;
    v_errors bigint;
    v_pending bigint;
    v_messages bigint := 0;
    v_reasons bigint;
    v_gone bigint[];
    v_named bigint[];
    v_fitted text;
    v_erased constant text := '(erased: the text named an erased entity key)';
    -- (session 66) the key as a whole token, not a substring (erasing '12' replaced the reasons naming '123' and
    -- '4125'): as pgscore's messages name a key (batch.key_text: quote_literal's, `(key '12')`, E'a\\b'), or in
    -- text pgscore did not write (a model's own error) where no letter, digit or _ is next to it, nor ' before it,
    -- nor ' after it but as an apostrophe ('s) (quote_literal's form not inside a longer literal: 'it' is in
    -- 'it''s', a doubled quote on either side)
    -- (review r1 of session 66) what continues a word beyond ASCII: the letters, marks and digits of the
    -- alphabets' blocks; not the punctuation, spaces and symbols of Latin-1's block, of U+2000-U+2BFF (curly quotes,
    -- dashes, no-break spaces, currency, arrows), the CJK and fullwidth punctuation, nor emoji (every character
    -- beyond ASCII counted as a letter, and ' after the key: a key in guillemets, curly quotes, before an em dash
    -- or before 's was not found). E''
    -- strings throughout: a session with standard_conforming_strings off read '\\' as one backslash (`(x)` was a
    -- group)
    v_word constant text :=
        E'[:alnum:]_'
        || E'\\u00C0-\\u00D6\\u00D8-\\u00F6\\u00F8-\\u037D\\u037F-\\u0386\\u0388-\\u0559\\u0560-\\u0588'
        || E'\\u058B-\\u05BD\\u05BF\\u05C1-\\u05C2\\u05C4-\\u05C5\\u05C7-\\u05F2\\u05F5-\\u060B'
        || E'\\u060E-\\u061A\\u061C\\u0620-\\u0669\\u066E-\\u06D3\\u06D5-\\u0963\\u0966-\\u096F'
        || E'\\u0971-\\u0E4E\\u0E50-\\u0E59\\u0E5C-\\u10FA\\u10FC-\\u135F\\u1369-\\u167F\\u1681-\\u16EA'
        || E'\\u16EE-\\u17D3\\u17DB-\\u17FF\\u180B-\\u1FFF\\u2C00-\\u2DFF\\u2E80-\\u2FEF\\u3005-\\u3007'
        || E'\\u3021-\\u302F\\u3031-\\u303C\\u3040-\\u309F\\u30A1-\\u30FA\\u30FC-\\uD7FF\\uF900-\\uFD3D'
        || E'\\uFD40-\\uFE0F\\uFE20-\\uFE2F\\uFE70-\\uFEFE\\uFF10-\\uFF19\\uFF21-\\uFF3A\\uFF41-\\uFF5A'
        || E'\\uFF66-\\uFFDF\\U00010000-\\U0001EFFF\\U0001FC00-\\U000DFFFF\\U000E0080-\\U000EFFFF';
    v_quoted text := quote_literal(p_key);
    -- (session 67) as Python's repr writes the key (a model's KeyError: 'a\\b'), where the key itself is not in the
    -- text: bounded as the key is but for the quotes around it (missed before: the reason kept the key). Session 68:
    -- written as CPython's unicode_repr writes it (0169 escaped a backslash, tab, newline and carriage return alone:
    -- a key holding both quotes, 'it\'s "x"', or another control character, 'a\x07b', was missed); made in the body
    v_repr text;
    -- what Python's str.isprintable() calls not printable beyond ASCII, of the characters assigned in Unicode 14
    -- (Python 3.11's): the C1 controls, the spaces but ' ', the format characters, the private use planes; repr
    -- writes each as \xhh, \uhhhh or \Uhhhhhhhh. (An unassigned code point, which repr escapes too, is not known here.)
    v_unprintable constant text :=
        E'[\\u0080-\\u00A0\\u00AD\\u0600-\\u0605\\u061C\\u06DD\\u070F\\u0890-\\u0891\\u08E2\\u1680\\u180E'
        || E'\\u2000-\\u200F\\u2028-\\u202F\\u205F-\\u2064\\u2066-\\u206F\\u3000\\uE000-\\uF8FF\\uFEFF'
        || E'\\uFFF9-\\uFFFB\\U000110BD\\U000110CD\\U00013430-\\U00013438\\U0001BCA0-\\U0001BCA3'
        || E'\\U0001D173-\\U0001D17A\\U000E0001\\U000E0020-\\U000E007F\\U000F0000-\\U000FFFFD'
        || E'\\U00100000-\\U0010FFFD]';
    -- a key longer than 1,000 characters as a substring (the side an erasure errs on): as a regular expression, one
    -- of 100,000 was refused as too complex (2201B), one of 20,000 took 8.5 s to compile
    v_token text;
BEGIN
    IF p_key IS NULL THEN
        RAISE EXCEPTION 'pgscore.erase_entity: p_key, the entity key to erase, must not be NULL'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'the key as the log holds it, as text: pgscore.predictions.entity_key';
    END IF;
    -- the key as Python's repr writes it, between its quotes: ' unless the key holds ' and not ", the quote and \
    -- escaped, \t \n \r, another control character as \xhh, a character not printable beyond ASCII as \xhh,
    -- \uhhhh or \Uhhhhhhhh; NULL where that is the key itself (a form found already)
    SELECT NULLIF(string_agg(
               CASE WHEN t.ch = q.q OR t.ch = E'\\' THEN E'\\' || t.ch
                    WHEN t.ch = E'\t' THEN E'\\t' WHEN t.ch = E'\n' THEN E'\\n' WHEN t.ch = E'\r' THEN E'\\r'
                    WHEN ascii(t.ch) < 32 OR ascii(t.ch) = 127 THEN E'\\x' || lpad(to_hex(ascii(t.ch)), 2, '0')
                    WHEN ascii(t.ch) < 127 OR t.ch !~ v_unprintable THEN t.ch
                    WHEN ascii(t.ch) <= 255 THEN E'\\x' || lpad(to_hex(ascii(t.ch)), 2, '0')
                    WHEN ascii(t.ch) <= 65535 THEN E'\\u' || lpad(to_hex(ascii(t.ch)), 4, '0')
                    ELSE E'\\U' || lpad(to_hex(ascii(t.ch)), 8, '0') END, '' ORDER BY t.n), p_key)
      INTO v_repr
      FROM regexp_split_to_table(p_key, '') WITH ORDINALITY AS t(ch, n),
           (SELECT CASE WHEN strpos(p_key, '''') > 0 AND strpos(p_key, '"') = 0 THEN '"' ELSE '''' END AS q) q;
    v_token := CASE WHEN length(p_key) <= 1000 THEN
        '(?<![' || v_word || '''])'
        || regexp_replace(p_key, E'([.^$*+?()[\\]{}|\\\\])', E'\\\\\\1', 'g')
        || '(?![' || v_word || '])(?!''[^' || v_word || ']|''$)|(?<!'')'
        || regexp_replace(quote_literal(p_key), E'([.^$*+?()[\\]{}|\\\\])', E'\\\\\\1', 'g') || '(?!'')'
        || CASE WHEN v_repr IS NOT NULL THEN
               '|(?<![' || v_word || '])'
               || regexp_replace(v_repr, E'([.^$*+?()[\\]{}|\\\\])', E'\\\\\\1', 'g') || '(?![' || v_word || '])'
           ELSE '' END END;
    -- (0155, review r1) a standby, or a read-only transaction, refuses its deletes: said so, with where to run it, as
    -- record_outcome since 0154 (it was PostgreSQL's bare 25006, no hint, quoting the DELETE of the log)
    IF current_setting('transaction_read_only') = 'on' THEN
        PERFORM pgscore.refuse_read_only('pgscore.erase_entity deletes the key''s rows');
    END IF;
    IF p_model IS NOT NULL THEN
        SELECT array_agg(m.model_id) INTO v_ids FROM pgscore.models m WHERE m.name = p_model;
        IF v_ids IS NULL THEN
            RAISE EXCEPTION 'pgscore.erase_entity: there is no model %', quote_literal(p_model)
                USING ERRCODE = 'undefined_object',
                      HINT = 'p_model NULL erases the entity''s rows of every model';
        END IF;
        SELECT coalesce(array_agg(w.rescoring_id), '{}') INTO v_wirings
          FROM pgscore.rescoring w WHERE w.model_name = p_model;
    END IF;
    DELETE FROM pgscore.prediction_log l WHERE l.entity_key = p_key AND (v_ids IS NULL OR l.model_id = ANY (v_ids));
    GET DIAGNOSTICS v_log = ROW_COUNT;
    WITH o AS (
        DELETE FROM pgscore.outcomes o WHERE o.entity_key = p_key AND (p_model IS NULL OR o.model_name = p_model)
        RETURNING o.outcome_id
    ), m AS (
        DELETE FROM pgscore.outcome_version_matches v USING o WHERE v.outcome_id = o.outcome_id RETURNING 1
    )
    SELECT (SELECT count(*) FROM o), (SELECT count(*) FROM m) INTO v_outcomes, v_matches;
    -- the queue read once (0155): its key's rows and the other keys' rows whose reason names it (an empty key is in
    -- every text: no reason is read), each then by its primary key. Before, a DELETE by the key and an UPDATE of
    -- the reasons each read the whole queue: no index leads with entity_key, and a token needs every reason
    -- read anyway, so one scan finds both (an index on the key would spare nothing more); strpos first, the
    -- regular expression only for the reasons that hold the key at all
    SELECT array_agg(e.error_id) FILTER (WHERE e.entity_key = p_key),
           array_agg(e.error_id) FILTER (WHERE e.entity_key <> p_key)
      INTO v_gone, v_named
      FROM pgscore.error_queue e
     WHERE (e.entity_key = p_key OR (p_key <> '' AND (strpos(e.reason, p_key) > 0 OR strpos(e.reason, v_quoted) > 0 OR strpos(e.reason, v_repr) > 0)
                                         AND (v_token IS NULL OR e.reason ~ v_token)))
       AND (p_model IS NULL OR e.model_name = p_model OR (e.model_name IS NULL AND e.rescoring_id = ANY (v_wirings)));
    -- (each condition again: a row a concurrent retry changed since is judged as it is now)
    DELETE FROM pgscore.error_queue e WHERE e.error_id = ANY (v_gone) AND e.entity_key = p_key;
    GET DIAGNOSTICS v_errors = ROW_COUNT;
    UPDATE pgscore.error_queue e SET reason = v_erased
     WHERE e.error_id = ANY (v_named)
       AND (strpos(e.reason, p_key) > 0 OR strpos(e.reason, v_quoted) > 0 OR strpos(e.reason, v_repr) > 0) AND (v_token IS NULL OR e.reason ~ v_token);
    GET DIAGNOSTICS v_reasons = ROW_COUNT;
    DELETE FROM pgscore.replicated_pending r
     WHERE r.entity_key = p_key AND (p_model IS NULL OR r.rescoring_id = ANY (v_wirings));
    GET DIAGNOSTICS v_pending = ROW_COUNT;
    -- free text that names the key (an empty key is in every text: none is read)
    IF p_key <> '' THEN
        UPDATE pgscore.shadow_failures f SET last_message = v_erased
         WHERE (strpos(f.last_message, p_key) > 0 OR strpos(f.last_message, v_quoted) > 0 OR strpos(f.last_message, v_repr) > 0) AND (v_token IS NULL OR f.last_message ~ v_token)
           AND (v_ids IS NULL OR f.model_id = ANY (v_ids));
        GET DIAGNOSTICS v_messages = ROW_COUNT;
        -- (0155) a version fitted on the key as a text feature's word holds it in its words (text_categories) and its
        -- artifact, whose codes it scores with: not changed by an erasure, said, for the operator to retrain
        SELECT string_agg(format('%s v%s (%s)', m.name, m.version, t.key), ', ' ORDER BY m.name, m.version, t.key)
          INTO v_fitted
          FROM pgscore.models m
         CROSS JOIN LATERAL jsonb_each(m.text_categories) t
         WHERE (v_ids IS NULL OR m.model_id = ANY (v_ids)) AND jsonb_typeof(t.value) = 'array' AND t.value ? p_key;
        IF v_fitted IS NOT NULL THEN
            RAISE NOTICE 'pgscore.erase_entity: the key is a word a model was fitted on, in its text_categories and artifact: %', v_fitted
                USING HINT = 'an erasure does not change a model version: retrain without the key and deploy; the versions that hold it stay with the model''s history until its rows are deleted (docs/operations.md, Deleting a model)';
        END IF;
    END IF;
    INSERT INTO pgscore.log_retention (action, model, entity_sha256, rows, detail)
    VALUES ('erase', p_model, encode(sha256(convert_to(p_key, 'UTF8')), 'hex'), v_log,
            jsonb_build_object('pgscore.prediction_log', v_log, 'pgscore.outcomes', v_outcomes,
                               'pgscore.outcome_version_matches', v_matches, 'pgscore.error_queue', v_errors,
                               'pgscore.replicated_pending', v_pending, 'pgscore.shadow_failures', v_messages,
                               'pgscore.error_queue (reason)', v_reasons));
    RETURN QUERY VALUES ('pgscore.prediction_log', v_log), ('pgscore.outcomes', v_outcomes),
                        ('pgscore.outcome_version_matches', v_matches), ('pgscore.error_queue', v_errors),
                        ('pgscore.replicated_pending', v_pending), ('pgscore.shadow_failures', v_messages),
                        ('pgscore.error_queue (reason)', v_reasons);
END
$fn$;
COMMENT ON FUNCTION pgscore.erase_entity(text, text) IS 'Erase an entity: delete its rows of model p_model (NULL: every model) from pgscore.prediction_log, outcomes, outcome_version_matches, error_queue and replicated_pending, and replace the free text holding the key (shadow_failures.last_message, another key''s error_queue.reason; 0147); returns the rows deleted or rewritten per table and records them in pgscore.log_retention with the key''s SHA-256, not the key (0141)';
