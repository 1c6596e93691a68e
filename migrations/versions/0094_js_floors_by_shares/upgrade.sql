-- 0093 to 0094: JS's noise floor by the baseline's own shares. noise_floor took JS's shares as equal (as many
-- as the baseline's bins holding one) and drift_stats_of computed it once per number of such bins, so over a
-- skewed baseline (a dominant bin, a categorical feature) no-drift windows crossed JS's floor up to 4 times as
-- often as the confidence says. noise_floor now reads JS's shares as PSI's, and drift_stats_of keys JS's floors
-- on the baseline's shares (once per distinct size, shares and family). Replaced in place: comments, owners and
-- grants stay.

CREATE OR REPLACE FUNCTION pgscore.noise_floor(p_metric text, p_n bigint, p_n_base bigint, p_expected float8[], p_confidence float8,
                                    p_base float8 DEFAULT NULL, p_positives bigint DEFAULT NULL)
RETURNS float8
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    v_inv float8;   -- 1/n + 1/n_base: the variance scale of a difference between the window and the baseline
    v_z float8;     -- the one-sided normal quantile at the confidence
    v_df integer;
    v_chi2 float8;
    v_allow float8 := 0;  -- PSI: what its baseline bins that may well stay empty add (below)
    v_e float8;
    v_rate float8;
    v_q1 float8;
    v_q2 float8;
    v_neg bigint;
    v_b float8;     -- out_of_range: the baseline's values but one
    v_p float8;     -- out_of_range: P(k values of the window fall outside the baseline's range)
    v_cum float8;   -- out_of_range: P(at most k)
    v_k bigint;
    v_neff float8;  -- PSI and JS: n m / (n + m), the window and baseline as one sample
    v_bins integer; -- PSI and JS: the bins holding a share
    v_mu float8;    -- PSI and JS: the mean, variance and third cumulant of v_neff times the metric (JS: 8 ln 2 JS^2)
    v_var float8;
    v_k3 float8;
    v_lam float8;
    v_c float8;
    v_g float8;
    v_s1 float8;
    v_s2 float8;
    v_s3 float8;
    v_nu float8;    -- PSI and JS: the shifted and scaled chi-square matching v_mu, v_var and v_k3
    v_scale float8;
    v_shift float8;
    v_empty float8[];  -- PSI: what each bin that stays empty now and then makes of it
    v_e0 float8;    -- PSI: how many of them stay empty in a window, on average
    v_add float8;
    v_term float8;
    v_floor float8;
    v_prev float8;  -- PSI and JS: the last share summed over the counts (quantile bins mostly share their share)
BEGIN
    IF p_metric IS NULL OR p_metric NOT IN ('psi', 'ks', 'js', 'mean_shift', 'null_rate', 'out_of_range',
                                            'auc_drop', 'accuracy_drop', 'brier_rise', 'rmse_rise') THEN
        RAISE EXCEPTION 'pgscore.noise_floor: unknown metric %', coalesce(quote_literal(p_metric), 'NULL')
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'psi, ks, js, mean_shift, null_rate, out_of_range, auc_drop, accuracy_drop, brier_rise or rmse_rise';
    END IF;
    IF p_n IS NULL OR p_n <= 0 THEN
        RAISE EXCEPTION 'pgscore.noise_floor: p_n (the window''s values) must be > 0, got %', coalesce(p_n::text, 'NULL')
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF p_n_base <= 0 THEN
        RAISE EXCEPTION 'pgscore.noise_floor: p_n_base (the baseline''s values) must be > 0 or NULL (a baseline known exactly), got %', p_n_base
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF p_confidence IS NULL THEN
        RETURN NULL;  -- judged by the thresholds alone
    END IF;
    IF NOT (p_confidence > 0 AND p_confidence < 1) THEN
        RAISE EXCEPTION 'pgscore.noise_floor: p_confidence must be between 0 and 1 (exclusive), got %', p_confidence
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    v_inv := 1.0 / p_n + coalesce(1.0 / p_n_base, 0);
    v_z := pgscore.normal_quantile(p_confidence);
    IF p_metric IN ('psi', 'js') THEN
        -- (migration 0092) n m/(n + m) PSI and 8 ln 2 n m/(n + m) JS^2 (T below) are chi-square with bins - 1
        -- degrees of freedom in large windows only: at n = 100 over 10 equal bins no-drift windows crossed that
        -- floor 2.2-2.5 (JS) and 3.9-4.3 (PSI) times as often as 0.999 says, JS 4-7.5 times at 0.999^(1/13) and
        -- 0.999^(1/113). T is now a shifted, scaled chi-square matched on its mean, variance and third cumulant:
        -- each bin's count Poisson with mean lambda = n m/(n + m) e; its part of T summed over the counts (PSI's
        -- 1e-4 floor in it) where lambda <= 15, else by their expansion in 1/lambda (fitted to those sums); less
        -- what the window's fixed size takes (Pearson's: mean 1, variance 2 + (B^2 + 2B - 2) / (n m/(n + m)),
        -- third cumulant 8). Its quantile by Wilson and Hilferty's cube root at the matched degrees of freedom.
        -- Large windows keep chi-square's floor (within 1% at 10,000 values against 2,000)
        IF p_expected IS NULL THEN
            RAISE EXCEPTION 'pgscore.noise_floor: p_expected (the baseline''s share per bin) must be given for %', p_metric
                USING ERRCODE = 'invalid_parameter_value';
        END IF;
        v_bins := 0;
        FOREACH v_e IN ARRAY p_expected LOOP  -- (a loop, not a query: this runs per feature and period)
            IF v_e > 0 AND v_e <= 1 THEN  -- (a share; not NULL or NaN)
                v_bins := v_bins + 1;
            END IF;
        END LOOP;
        IF v_bins <= 1 THEN
            RETURN 0;
        END IF;
        v_neff := 1 / v_inv;
        v_mu := -1;
        v_var := -2 - (v_bins ^ 2 + 2 * v_bins - 2) / v_neff;
        v_k3 := -8;
        -- (migration 0094) JS's too by the baseline's own shares: 0092 took them as equal, so over a dominant bin
        -- (0.82 and 9 of 0.02, n = 300 against 2,000, 0.999^(1/13)) no-drift windows crossed its floor 4.2 times
        -- as often as the confidence says; by the shares, 0.13 times (the simulated quantile 6% under the floor)
        FOREACH v_e IN ARRAY p_expected LOOP
            CONTINUE WHEN v_e IS NULL OR NOT (v_e > 0 AND v_e <= 1);
            v_lam := v_neff * v_e;
            IF v_lam > 15 THEN
                -- (the three moments' terms in 1/lambda to the third, fitted to the sums over the counts at lambda
                -- 10 to 6,400: within 0.3% of each there, 0.01% of JS's)
                IF p_metric = 'js' THEN
                    v_mu := v_mu + 1 + (0.376 + (0.285 + 1.555 / v_lam) / v_lam) / v_lam;
                    v_var := v_var + 2 + (2.795 + (2.337 + 42.609 / v_lam) / v_lam) / v_lam;
                    v_k3 := v_k3 + 8 + (27.752 + (2.542 + 1078.827 / v_lam) / v_lam) / v_lam;
                ELSE
                    v_mu := v_mu + 1 + (0.489 + (1.311 - 1.474 / v_lam) / v_lam) / v_lam;
                    v_var := v_var + 2 + (3.414 + (26.718 - 53.039 / v_lam) / v_lam) / v_lam;
                    v_k3 := v_k3 + 8 + (24.391 + (667.982 - 2559.414 / v_lam) / v_lam) / v_lam;
                END IF;
                CONTINUE;
            END IF;
            IF v_e IS NOT DISTINCT FROM v_prev THEN  -- (the sums of the bin before)
                v_mu := v_mu + v_s1;
                v_var := v_var + v_s2 - v_s1 ^ 2;
                v_k3 := v_k3 + v_s3 - 3 * v_s1 * v_s2 + 2 * v_s1 ^ 3;
                CONTINUE;
            END IF;
            v_prev := v_e;
            v_p := exp(-v_lam);  -- P(count 0), then each next count's
            v_s1 := 0;
            v_s2 := 0;
            v_s3 := 0;
            FOR k IN 0..floor(v_lam + 5 * sqrt(v_lam) + 6)::integer LOOP  -- (what lies past it moves T by under 1e-4)
                v_c := k / v_neff;
                IF p_metric = 'psi' THEN
                    v_g := v_neff * (greatest(v_c, 1e-4) - greatest(v_e, 1e-4)) * ln(greatest(v_c, 1e-4) / greatest(v_e, 1e-4));
                ELSE
                    v_g := v_neff * 4 * (CASE WHEN k > 0 THEN v_c * ln(2 * v_c / (v_c + v_e)) ELSE 0 END
                                         + v_e * ln(2 * v_e / (v_c + v_e)));
                END IF;
                -- (PSI: a bin empty in under 1 window in 100 is left to the allowance below: in the moments its
                -- rare empties put the floor at 0.999 a quarter over the quantile)
                IF p_metric = 'js' OR k > 0 OR v_lam <= ln(100) THEN
                    v_s1 := v_s1 + v_p * v_g;
                    v_s2 := v_s2 + v_p * v_g ^ 2;
                    v_s3 := v_s3 + v_p * v_g ^ 3;
                END IF;
                EXIT WHEN v_p < 1e-290 AND k > v_lam;  -- (the rest is nothing; multiplying on would underflow)
                v_p := v_p * v_lam / (k + 1);
            END LOOP;
            v_mu := v_mu + v_s1;
            v_var := v_var + v_s2 - v_s1 ^ 2;
            v_k3 := v_k3 + v_s3 - 3 * v_s1 * v_s2 + 2 * v_s1 ^ 3;
        END LOOP;
        v_var := greatest(v_var, 1e-12);
        v_nu := least(8 * v_var ^ 3 / greatest(v_k3, 1e-12) ^ 2, 1e8);  -- (1e8: as good as normal)
        v_scale := sqrt(v_var / (2 * v_nu));
        v_shift := v_mu - v_scale * v_nu;
        v_floor := greatest(0, v_shift + v_scale * v_nu * greatest(0, 1 - 2.0 / (9 * v_nu) + v_z * sqrt(2.0 / (9 * v_nu))) ^ 3) * v_inv;
        IF p_metric = 'js' THEN
            RETURN sqrt(v_floor / (8 * ln(2)));
        END IF;
        -- PSI: a bin that stays empty adds (e - 1e-4) ln(e / 1e-4) (its share floored at 1e-4), far more than its
        -- chi-square share. Where that happens in under 1 window in 100 (the matched moments do not see it) yet
        -- more often than (1 - confidence) / bins, the floor is at least the k largest of them plus the rest's
        -- quantile at 1 - (1 - confidence) / P(k empty), k as many as are empty together more often than
        -- 1 - confidence (how many are empty: Poisson). (0090 added every such bin's in full to the quantile:
        -- 7.8 times the simulated quantile at n = 100 over 10 equal bins and 0.999^(1/13), 2 to 4 times at n = 30)
        v_empty := '{}';
        v_e0 := 0;
        FOREACH v_e IN ARRAY p_expected LOOP
            IF v_e > 1e-4 AND v_e < 1 THEN
                -- P(empty): (1 - e)^n, times what the baseline's own noise in e adds (log-normal in 1 - p)
                v_p := least(0, p_n * ln(1 - v_e) + coalesce(p_n ^ 2 * v_e / (1 - v_e) / (2 * (p_n_base + 1)), 0));
                v_p := CASE WHEN v_p > -700 THEN exp(v_p) ELSE 0 END;
                IF v_p > (1 - p_confidence) / v_bins AND v_p < 0.01 THEN
                    v_empty := v_empty || (v_e - 1e-4) * ln(v_e / 1e-4);
                    v_e0 := v_e0 + v_p;
                END IF;
            END IF;
        END LOOP;
        IF cardinality(v_empty) > 0 THEN
            v_term := exp(-v_e0);  -- P(exactly k empty)
            v_cum := v_term;       -- P(at most k empty)
            v_add := 0;
            v_k := 0;
            WHILE 1 - v_cum > 1 - p_confidence AND v_k < cardinality(v_empty) LOOP
                v_e := v_empty[1];  -- the largest left
                v_q1 := 1;
                FOR i IN 2..cardinality(v_empty) LOOP
                    IF v_empty[i] > v_e THEN
                        v_e := v_empty[i];
                        v_q1 := i;
                    END IF;
                END LOOP;
                v_empty[v_q1::integer] := -1;
                v_add := v_add + v_e;
                v_rate := 1 - v_cum;  -- P(at least k + 1 empty)
                v_k := v_k + 1;
                v_term := v_term * v_e0 / v_k;
                v_cum := v_cum + v_term;
                v_q2 := pgscore.normal_quantile(greatest(0.5, 1 - (1 - p_confidence) / v_rate));
                v_floor := greatest(v_floor, v_add + greatest(0, v_shift + v_scale * v_nu
                                    * greatest(0, 1 - 2.0 / (9 * v_nu) + v_q2 * sqrt(2.0 / (9 * v_nu))) ^ 3) * v_inv);
            END LOOP;
        END IF;
        RETURN v_floor;
    ELSIF p_metric = 'ks' THEN
        -- the two-sample Kolmogorov-Smirnov critical value c(alpha) * sqrt((n + m) / (n m))
        RETURN sqrt(-ln((1 - p_confidence) / 2) / 2) * sqrt(v_inv);
    ELSIF p_metric = 'mean_shift' THEN
        -- |mean - baseline mean| in baseline standard deviations: its standard error is sqrt(1/n + 1/m)
        RETURN pgscore.normal_quantile(1 - (1 - p_confidence) / 2) * sqrt(v_inv);
    ELSIF p_metric = 'null_rate' THEN
        -- the rise of a binomial share over the baseline's share p_base
        v_rate := least(greatest(coalesce(p_base, 0), 0), 1);
        RETURN v_z * sqrt(v_rate * (1 - v_rate) * v_inv);
    ELSIF p_metric = 'out_of_range' THEN
        -- (migration 0088) the share of the window outside the min..max of m baseline draws: the share p of the
        -- distribution outside them is Beta(2, m - 1), so how many of the n fall outside is beta-binomial
        -- (n, 2, m - 1), most often none; its quantile, counted up from P(0) = b (b + 1) / ((n + b)(n + b + 1)),
        -- b = m - 1 (0085's normal approximation of a binomial at 2/(m + 1) put the floor under a single value:
        -- 2.6% of windows of 100 were over it on no drift, at a nominal 0.1%)
        IF p_n_base IS NULL THEN
            RETURN 0;  -- a baseline known exactly: nothing falls outside it
        ELSIF p_n_base = 1 THEN
            RETURN 1;  -- every value but the one falls outside
        END IF;
        v_b := p_n_base - 1;
        v_e := 2.0 * p_n / (p_n_base + 1);  -- the count's mean
        IF v_e > 1000 THEN
            -- far from none the share is the share p outside, give or take a little: Beta(2, b)'s quantile x,
            -- (1 - x)^b (1 + b x) = 1 - confidence, by Newton's method (within 0.1% of the beta-binomial's),
            -- from at most 0.5: the function is decreasing and concave in x, so Newton converges from there (a
            -- first guess of 1 or more, where m <= 1 - ln(1 - confidence), took the logarithm of a negative number)
            v_p := least(-ln(1 - p_confidence) / v_b, 0.5);
            FOR i IN 1..60 LOOP
                v_cum := (v_b * ln(1 - v_p) + ln(1 + v_b * v_p) - ln(1 - p_confidence))
                         / (v_b / (1 + v_b * v_p) - v_b / (1 - v_p));
                v_p := least(greatest(v_p - v_cum, 1e-300), 1 - 1e-15);
                EXIT WHEN abs(v_cum) < 1e-14 * v_p;
            END LOOP;
            RETURN v_p;
        END IF;
        v_p := v_b * (v_b + 1) / ((p_n + v_b) * (p_n + v_b + 1));
        v_cum := v_p;
        v_k := 0;
        WHILE 1 - v_cum > 1 - p_confidence AND v_k < p_n LOOP
            v_p := v_p * (p_n - v_k) / (v_k + 1) * (v_k + 2) / (p_n - v_k - 1 + v_b);
            v_k := v_k + 1;
            v_cum := v_cum + v_p;
        END LOOP;
        RETURN v_k::float8 / p_n;  -- the window is over it when more than v_k of its n fall outside
    ELSIF p_base IS NULL THEN
        RETURN NULL;  -- no deploy metric: nothing to compare
    ELSIF p_metric = 'accuracy_drop' THEN
        v_rate := least(greatest(p_base, 0), 1);
        RETURN v_z * sqrt(v_rate * (1 - v_rate) * v_inv);
    ELSIF p_metric = 'brier_rise' THEN
        -- a squared error in 0..1 with mean b has a variance of at most b (1 - b)
        v_rate := least(greatest(p_base, 0), 1);
        RETURN v_z * sqrt(v_rate * (1 - v_rate) * v_inv);
    ELSIF p_metric = 'rmse_rise' THEN
        -- RMSE over the deploy RMSE: its standard error is sqrt(1/(2n)) for normal errors
        RETURN v_z * sqrt(v_inv / 2);
    END IF;
    -- auc_drop: Hanley and McNeil's standard error at the deploy AUC, p_positives of the p_n outcomes positive
    v_neg := p_n - p_positives;
    IF p_positives IS NULL OR p_positives <= 0 OR v_neg <= 0 THEN
        RETURN NULL;  -- no AUC without both classes
    END IF;
    v_rate := least(greatest(p_base, 0), 1);
    v_q1 := v_rate / (2 - v_rate);
    v_q2 := 2 * v_rate ^ 2 / (1 + v_rate);
    RETURN v_z * sqrt(greatest(0, v_rate * (1 - v_rate) + (p_positives - 1) * (v_q1 - v_rate ^ 2)
                                  + (v_neg - 1) * (v_q2 - v_rate ^ 2)) / (p_positives * v_neg));
END
$fn$;
COMMENT ON FUNCTION pgscore.noise_floor(text, bigint, bigint, float8[], float8, float8, bigint) IS 'How large p_metric grows by sampling noise alone, at p_confidence, for a window of p_n values (outcomes) against a baseline of p_n_base (NULL: known exactly): PSI and JS by a shifted, scaled chi-square matched on the first three moments of the metric under Poisson counts per bin of p_expected (the baseline''s shares, 0094: JS''s too), chi-square with a degree of freedom per bin but one in large windows, PSI with what its bins that stay empty now and then add (0092), KS by the two-sample Kolmogorov distribution, mean shift by its standard error, null_rate by its binomial standard error (p_base: the baseline null rate), out_of_range by the beta-binomial count of values outside the min..max of p_n_base draws, the performance drops by their standard errors at the deploy metric p_base (auc_drop: p_positives of p_n positive). NULL at a NULL confidence';

CREATE OR REPLACE FUNCTION pgscore.drift_stats_of(p_model_ids bigint[], p_period_kind text)
RETURNS TABLE (model_id bigint, name text, version integer, period_kind text, period text, sort_order integer,
               kind text, feature text, "position" integer, n bigint, n_valid bigint, null_rate float8,
               baseline_null_rate float8, mean float8, baseline_mean float8, mean_shift float8, out_of_range float8,
               psi float8, ks float8, js float8, constant_baseline boolean, empty_baseline boolean,
               checks jsonb, status text, firing text, min_n integer)
LANGUAGE sql STABLE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET jit = off
SET work_mem = '64MB'
SET extra_float_digits = 1
ROWS 2000
AS $fn$
SELECT pgscore.check_period_kind('pgscore.drift_stats_of', p_period_kind);
WITH live AS MATERIALIZED (SELECT m.model_id, m.name, m.version FROM pgscore.models m
                            WHERE m.model_id = ANY (p_model_ids)),
periods AS MATERIALIZED (SELECT * FROM pgscore.monitoring_periods mp
                          WHERE p_period_kind IS NULL OR mp.period_kind = p_period_kind),
counts AS MATERIALIZED (SELECT * FROM pgscore.drift_counts_of(p_model_ids, p_period_kind, NULL)),
base AS MATERIALIZED (
    SELECT live.model_id, live.name, live.version, b.kind, b.feature, b.position, b.edges, b.expected, b.mean,
           b.std, b.null_rate, b.n AS base_n,
           -- constant at training (min = max), whatever std the float arithmetic left (before 0036: 1.1e-16
           -- for a column of 0.3, which made any mean shift of it an alert)
           b.std = 0 OR b.min = b.max AS constant,
           -- the model's features and score: each metric's floors are family-wise over them (0088, below); how
           -- many of them are features, which each check says with the family (0091)
           count(*) OVER (PARTITION BY live.model_id) AS family,
           count(*) FILTER (WHERE b.kind = 'feature') OVER (PARTITION BY live.model_id) AS family_features
      FROM live JOIN pgscore.baselines b ON b.model_id = live.model_id
),
agg AS MATERIALIZED (
    SELECT c.model_id, c.period_kind, c.period, c.kind, c.position,
           sum(c.n) AS n, coalesce(sum(c.n) FILTER (WHERE c.bin = -1), 0) AS n_null,
           coalesce(sum(c.n) FILTER (WHERE c.bin >= 0), 0) AS n_valid, sum(c.total) AS total, sum(c.n_out) AS n_out,
           array_agg(c.bin) AS bins, array_agg(c.n) AS bin_n  -- each bin that holds a value, and how many
      FROM counts c
     GROUP BY c.model_id, c.period_kind, c.period, c.kind, c.position
),
-- every baseline bin of each live model, feature (or score) and period that holds a valid value, with its
-- current count (0 if none): stats keeps PSI, KS and JS only there (n_valid > 0), so a period without one
-- (most of the 30 days of a model logging now and then) is no longer spread over its bins for nothing
grid AS (
    SELECT b.model_id, a.period_kind, a.period, b.kind, b.position, g.bin, b.expected[g.bin + 1] AS e,
           coalesce(a.bin_n[array_position(a.bins, g.bin)], 0) AS n
      FROM agg a
      JOIN base b ON b.model_id = a.model_id AND b.kind = a.kind AND b.position = a.position
     CROSS JOIN LATERAL generate_series(0, cardinality(b.expected) - 1) g(bin)
     WHERE a.n_valid > 0
),
shares AS (
    SELECT g.*, g.n::float8 / nullif(sum(g.n) OVER w, 0) AS c,
           (sum(g.n) OVER (w ORDER BY g.bin))::float8 / nullif(sum(g.n) OVER w, 0) AS c_cum,
           sum(g.e) OVER (w ORDER BY g.bin) AS e_cum
      FROM grid g
    WINDOW w AS (PARTITION BY g.model_id, g.period_kind, g.period, g.kind, g.position)
),
dist AS (  -- PSI (shares floored at 1e-4), KS at the bin edges, Jensen-Shannon distance in base 2
    SELECT s.model_id, s.period_kind, s.period, s.kind, s.position,
           sum((greatest(s.c, 1e-4) - greatest(s.e, 1e-4)) * ln(greatest(s.c, 1e-4) / greatest(s.e, 1e-4))) AS psi,
           max(abs(s.c_cum - s.e_cum)) AS ks,
           sqrt(greatest(0, 0.5 * sum(CASE WHEN s.c > 0 THEN s.c * ln(s.c / ((s.c + s.e) / 2)) ELSE 0 END)
                          + 0.5 * sum(CASE WHEN s.e > 0 THEN s.e * ln(s.e / ((s.c + s.e) / 2)) ELSE 0 END)) / ln(2)) AS js
      FROM shares s
     GROUP BY s.model_id, s.period_kind, s.period, s.kind, s.position
),
stats AS (
    SELECT b.model_id, b.name, b.version, p.period_kind, p.period, p.sort_order, b.kind, b.feature, b.position,
           coalesce(a.n, 0)::bigint AS n, coalesce(a.n_valid, 0)::bigint AS n_valid,
           a.n_null::float8 / nullif(a.n, 0) AS null_rate, b.null_rate AS baseline_null_rate,
           -- in numeric (from each float8's exact text: a cast keeps 15 digits), kept within float8's range:
           -- huge means over a tiny std, or tiny over huge, raise no overflow or underflow (a value rounded
           -- to 323 places is 0 or at least 1e-323, which float8 holds)
           round(a.total::text::numeric / nullif(a.n_valid, 0), 323)::float8 AS mean, b.mean AS baseline_mean,
           CASE WHEN NOT b.constant AND a.n_valid > 0  -- (greatest and least take no NULL for an answer)
                THEN least(greatest(round((a.total::text::numeric / a.n_valid - b.mean::text::numeric)
                                          / b.std::text::numeric, 323), -1e300), 1e300)::float8 END AS mean_shift,
           a.n_out::float8 / nullif(a.n_valid, 0) AS out_of_range,
           CASE WHEN a.n_valid > 0 THEN d.psi END AS psi,
           CASE WHEN a.n_valid > 0 THEN d.ks END AS ks,
           CASE WHEN a.n_valid > 0 THEN d.js END AS js,
           b.constant AS constant_baseline, cardinality(b.expected) = 0 AS empty_baseline
      FROM base b
     CROSS JOIN periods p
      LEFT JOIN agg a ON a.model_id = b.model_id AND a.period_kind = p.period_kind AND a.period = p.period
                     AND a.kind = b.kind AND a.position = b.position
      LEFT JOIN dist d ON d.model_id = b.model_id AND d.period_kind = p.period_kind AND d.period = p.period
                      AND d.kind = b.kind AND d.position = b.position
),
-- pgscore.drift_thresholds in one row (NULLs for a metric it holds no row for), with each metric's check
-- but for its value, n and level built once
th AS MATERIALIZED (
    SELECT t.*,
           -- the text of each metric's check up to its value, for checks built as text: jsonb_build_object took
           -- 20 us a row more, for the same jsonb (a number is read from its float8 text either way)
           rtrim(t.psi_check::text, '}') || ', "value": ' AS psi_prefix,
           rtrim(t.ks_check::text, '}') || ', "value": ' AS ks_prefix,
           rtrim(t.js_check::text, '}') || ', "value": ' AS js_prefix,
           rtrim(t.mean_shift_check::text, '}') || ', "value": ' AS mean_shift_prefix,
           rtrim(t.null_rate_check::text, '}') || ', "value": ' AS null_rate_prefix,
           rtrim(t.out_of_range_check::text, '}') || ', "value": ' AS out_of_range_prefix
      FROM (SELECT t.*, t.psi_min_n IS NOT NULL AND t.ks_min_n IS NOT NULL AND t.js_min_n IS NOT NULL AND t.mean_shift_min_n IS NOT NULL AND t.null_rate_min_n IS NOT NULL AND t.out_of_range_min_n IS NOT NULL AS complete,
                       jsonb_build_object('metric', 'psi', 'warn', t.psi_warn, 'alert', t.psi_alert, 'min_n', t.psi_min_n) || CASE WHEN t.psi_confidence IS NOT NULL THEN jsonb_build_object('confidence', t.psi_confidence) ELSE '{}' END AS psi_check,
                       jsonb_build_object('metric', 'ks', 'warn', t.ks_warn, 'alert', t.ks_alert, 'min_n', t.ks_min_n) || CASE WHEN t.ks_confidence IS NOT NULL THEN jsonb_build_object('confidence', t.ks_confidence) ELSE '{}' END AS ks_check,
                       jsonb_build_object('metric', 'js', 'warn', t.js_warn, 'alert', t.js_alert, 'min_n', t.js_min_n) || CASE WHEN t.js_confidence IS NOT NULL THEN jsonb_build_object('confidence', t.js_confidence) ELSE '{}' END AS js_check,
                       jsonb_build_object('metric', 'mean_shift', 'warn', t.mean_shift_warn, 'alert', t.mean_shift_alert, 'min_n', t.mean_shift_min_n) || CASE WHEN t.mean_shift_confidence IS NOT NULL THEN jsonb_build_object('confidence', t.mean_shift_confidence) ELSE '{}' END AS mean_shift_check,
                       jsonb_build_object('metric', 'null_rate', 'warn', t.null_rate_warn, 'alert', t.null_rate_alert, 'min_n', t.null_rate_min_n) || CASE WHEN t.null_rate_confidence IS NOT NULL THEN jsonb_build_object('confidence', t.null_rate_confidence) ELSE '{}' END AS null_rate_check,
                       jsonb_build_object('metric', 'out_of_range', 'warn', t.out_of_range_warn, 'alert', t.out_of_range_alert, 'min_n', t.out_of_range_min_n) || CASE WHEN t.out_of_range_confidence IS NOT NULL THEN jsonb_build_object('confidence', t.out_of_range_confidence) ELSE '{}' END AS out_of_range_check
      FROM (SELECT max(t.warn) FILTER (WHERE t.metric = 'psi') AS psi_warn, max(t.alert) FILTER (WHERE t.metric = 'psi') AS psi_alert,
                   max(t.min_n) FILTER (WHERE t.metric = 'psi') AS psi_min_n, max(t.confidence) FILTER (WHERE t.metric = 'psi') AS psi_confidence,
                   max(t.warn) FILTER (WHERE t.metric = 'ks') AS ks_warn, max(t.alert) FILTER (WHERE t.metric = 'ks') AS ks_alert,
                   max(t.min_n) FILTER (WHERE t.metric = 'ks') AS ks_min_n, max(t.confidence) FILTER (WHERE t.metric = 'ks') AS ks_confidence,
                   max(t.warn) FILTER (WHERE t.metric = 'js') AS js_warn, max(t.alert) FILTER (WHERE t.metric = 'js') AS js_alert,
                   max(t.min_n) FILTER (WHERE t.metric = 'js') AS js_min_n, max(t.confidence) FILTER (WHERE t.metric = 'js') AS js_confidence,
                   max(t.warn) FILTER (WHERE t.metric = 'mean_shift') AS mean_shift_warn, max(t.alert) FILTER (WHERE t.metric = 'mean_shift') AS mean_shift_alert,
                   max(t.min_n) FILTER (WHERE t.metric = 'mean_shift') AS mean_shift_min_n, max(t.confidence) FILTER (WHERE t.metric = 'mean_shift') AS mean_shift_confidence,
                   max(t.warn) FILTER (WHERE t.metric = 'null_rate') AS null_rate_warn, max(t.alert) FILTER (WHERE t.metric = 'null_rate') AS null_rate_alert,
                   max(t.min_n) FILTER (WHERE t.metric = 'null_rate') AS null_rate_min_n, max(t.confidence) FILTER (WHERE t.metric = 'null_rate') AS null_rate_confidence,
                   max(t.warn) FILTER (WHERE t.metric = 'out_of_range') AS out_of_range_warn, max(t.alert) FILTER (WHERE t.metric = 'out_of_range') AS out_of_range_alert,
                   max(t.min_n) FILTER (WHERE t.metric = 'out_of_range') AS out_of_range_min_n, max(t.confidence) FILTER (WHERE t.metric = 'out_of_range') AS out_of_range_confidence
              FROM pgscore.drift_thresholds t) t) t
),
-- the noise floors once per distinct argument (migration 0086; a call cost 4-12 us, and one per metric, feature
-- and period, more where a level was tested, ~1 s of a 1,000-feature model's feature_drift), none at a NULL
-- confidence: KS, the mean shift and out of range by the window's and the baseline's sizes alone, the null
-- rate by the window's size and the baseline's size and null rate, JS by those sizes and the baseline's shares
-- (0094: before, the number of bins holding one, as if equal; features of the same shares share it); PSI, which
-- reads the shares too, once per feature and period below. Each at the metric's confidence c family-wise over the model's
-- features and score (0088, Sidak): each of its k at c^(1/k), so that on no drift all k stay under their floors
-- with a chance c, whatever k (at c for each, a model of 112 features had some feature at alert in 34% of windows
-- of 100); the model's k is a key of the floors too
sized AS MATERIALIZED (
    SELECT s.n, s.n_valid, coalesce(nullif(round(b.base_n * (1 - b.null_rate)), 0)::bigint, 0) AS n_base,
           b.base_n, b.null_rate, b.expected, b.family
      FROM stats s
      JOIN base b ON b.model_id = s.model_id AND b.kind = s.kind AND b.position = s.position
     WHERE s.n > 0
),
size_floors AS MATERIALIZED (
    SELECT k.n_valid, k.n_base, k.family,
           CASE WHEN th.ks_confidence IS NOT NULL THEN pgscore.noise_floor('ks', k.n_valid, nullif(k.n_base, 0), NULL, th.ks_confidence ^ (1 / k.family::float8)) END AS ks,
           CASE WHEN th.mean_shift_confidence IS NOT NULL THEN pgscore.noise_floor('mean_shift', k.n_valid, nullif(k.n_base, 0), NULL, th.mean_shift_confidence ^ (1 / k.family::float8)) END AS mean_shift,
           CASE WHEN th.out_of_range_confidence IS NOT NULL THEN pgscore.noise_floor('out_of_range', k.n_valid, nullif(k.n_base, 0), NULL, th.out_of_range_confidence ^ (1 / k.family::float8)) END AS out_of_range
      FROM (SELECT DISTINCT z.n_valid, z.n_base, z.family FROM sized z WHERE z.n_valid > 0) k
     CROSS JOIN th
),
null_floors AS MATERIALIZED (
    SELECT k.n, k.base_n, k.null_rate, k.family,
           CASE WHEN th.null_rate_confidence IS NOT NULL THEN pgscore.noise_floor('null_rate', k.n, nullif(k.base_n, 0), NULL, th.null_rate_confidence ^ (1 / k.family::float8), k.null_rate) END AS floor
      FROM (SELECT DISTINCT z.n, z.base_n, z.null_rate, z.family FROM sized z) k
     CROSS JOIN th
),
js_floors AS MATERIALIZED (
    SELECT k.n_valid, k.n_base, k.expected, k.family,
           CASE WHEN th.js_confidence IS NOT NULL THEN pgscore.noise_floor('js', k.n_valid, nullif(k.n_base, 0), k.expected, th.js_confidence ^ (1 / k.family::float8)) END AS js
      FROM (SELECT DISTINCT z.n_valid, z.n_base, z.expected, z.family FROM sized z WHERE z.n_valid > 0) k
     CROSS JOIN th
),
-- what each check with a confidence says of its family (migration 0091), per model and metric: the model's k
-- (its features and score), how many of them are features, and the confidence c^(1/k) its floor is at (the one
-- the floors above are computed at), as the text its checks are built of and as jsonb; NULL at a NULL confidence
fam AS MATERIALIZED (
    SELECT f.model_id,
           ', "family": ' || f.family || ', "family_features": ' || f.family_features || ', "check_confidence": ' || (th.psi_confidence ^ (1 / f.family::float8))::text AS psi_text,
           jsonb_build_object('family', f.family, 'family_features', f.family_features, 'check_confidence', th.psi_confidence ^ (1 / f.family::float8)) AS psi_json,
           ', "family": ' || f.family || ', "family_features": ' || f.family_features || ', "check_confidence": ' || (th.ks_confidence ^ (1 / f.family::float8))::text AS ks_text,
           jsonb_build_object('family', f.family, 'family_features', f.family_features, 'check_confidence', th.ks_confidence ^ (1 / f.family::float8)) AS ks_json,
           ', "family": ' || f.family || ', "family_features": ' || f.family_features || ', "check_confidence": ' || (th.js_confidence ^ (1 / f.family::float8))::text AS js_text,
           jsonb_build_object('family', f.family, 'family_features', f.family_features, 'check_confidence', th.js_confidence ^ (1 / f.family::float8)) AS js_json,
           ', "family": ' || f.family || ', "family_features": ' || f.family_features || ', "check_confidence": ' || (th.mean_shift_confidence ^ (1 / f.family::float8))::text AS mean_shift_text,
           jsonb_build_object('family', f.family, 'family_features', f.family_features, 'check_confidence', th.mean_shift_confidence ^ (1 / f.family::float8)) AS mean_shift_json,
           ', "family": ' || f.family || ', "family_features": ' || f.family_features || ', "check_confidence": ' || (th.null_rate_confidence ^ (1 / f.family::float8))::text AS null_rate_text,
           jsonb_build_object('family', f.family, 'family_features', f.family_features, 'check_confidence', th.null_rate_confidence ^ (1 / f.family::float8)) AS null_rate_json,
           ', "family": ' || f.family || ', "family_features": ' || f.family_features || ', "check_confidence": ' || (th.out_of_range_confidence ^ (1 / f.family::float8))::text AS out_of_range_text,
           jsonb_build_object('family', f.family, 'family_features', f.family_features, 'check_confidence', th.out_of_range_confidence ^ (1 / f.family::float8)) AS out_of_range_json
      FROM (SELECT DISTINCT b.model_id, b.family, b.family_features FROM base b) f
     CROSS JOIN th
)
-- each metric's level and check as pgscore.judge gives them (a metric with no threshold row is left out;
-- none: NULLs), in place: a call of judge per feature and period cost ~55 us, 105,000 calls for 3,000 features
SELECT s.*,
       CASE WHEN th.complete THEN ('[' || th.js_prefix || coalesce(CASE WHEN s.js IN ('Infinity', '-Infinity', 'NaN') THEN to_jsonb(s.js)::text ELSE (s.js)::text END, 'null') || ', "n": ' || s.n_valid || CASE WHEN th.js_confidence IS NOT NULL THEN ', "floor": ' || coalesce((fl.js)::text, 'null') || fm.js_text ELSE '' END || ', "level": "' || l.js || '"'
                  || '}, ' || th.ks_prefix || coalesce(CASE WHEN s.ks IN ('Infinity', '-Infinity', 'NaN') THEN to_jsonb(s.ks)::text ELSE (s.ks)::text END, 'null') || ', "n": ' || s.n_valid || CASE WHEN th.ks_confidence IS NOT NULL THEN ', "floor": ' || coalesce((fl.ks)::text, 'null') || fm.ks_text ELSE '' END || ', "level": "' || l.ks || '"'
                  || '}, ' || th.mean_shift_prefix || coalesce(CASE WHEN abs(s.mean_shift) IN ('Infinity', '-Infinity', 'NaN') THEN to_jsonb(abs(s.mean_shift))::text ELSE (abs(s.mean_shift))::text END, 'null') || ', "n": ' || s.n_valid || CASE WHEN th.mean_shift_confidence IS NOT NULL THEN ', "floor": ' || coalesce((fl.mean_shift)::text, 'null') || fm.mean_shift_text ELSE '' END || ', "level": "' || l.mean_shift || '"'
                  || '}, ' || th.null_rate_prefix || coalesce(CASE WHEN s.null_rate - s.baseline_null_rate IN ('Infinity', '-Infinity', 'NaN') THEN to_jsonb(s.null_rate - s.baseline_null_rate)::text ELSE (s.null_rate - s.baseline_null_rate)::text END, 'null') || ', "n": ' || s.n || CASE WHEN th.null_rate_confidence IS NOT NULL THEN ', "floor": ' || coalesce((fl.null_rate)::text, 'null') || fm.null_rate_text ELSE '' END || ', "level": "' || l.null_rate || '"'
                  || '}, ' || th.out_of_range_prefix || coalesce(CASE WHEN s.out_of_range IN ('Infinity', '-Infinity', 'NaN') THEN to_jsonb(s.out_of_range)::text ELSE (s.out_of_range)::text END, 'null') || ', "n": ' || s.n_valid || CASE WHEN th.out_of_range_confidence IS NOT NULL THEN ', "floor": ' || coalesce((fl.out_of_range)::text, 'null') || fm.out_of_range_text ELSE '' END || ', "level": "' || l.out_of_range || '"'
                  || '}, ' || th.psi_prefix || coalesce(CASE WHEN s.psi IN ('Infinity', '-Infinity', 'NaN') THEN to_jsonb(s.psi)::text ELSE (s.psi)::text END, 'null') || ', "n": ' || s.n_valid || CASE WHEN th.psi_confidence IS NOT NULL THEN ', "floor": ' || coalesce((fl.psi)::text, 'null') || fm.psi_text ELSE '' END || ', "level": "' || l.psi || '"'
                  || '}]')::jsonb
            ELSE nullif(CASE WHEN l.js IS NOT NULL THEN jsonb_build_array(th.js_check || jsonb_build_object('value', s.js, 'n', s.n_valid, 'level', l.js) || CASE WHEN th.js_confidence IS NOT NULL THEN jsonb_build_object('floor', fl.js) || fm.js_json ELSE '{}' END) ELSE '[]' END
                       || CASE WHEN l.ks IS NOT NULL THEN jsonb_build_array(th.ks_check || jsonb_build_object('value', s.ks, 'n', s.n_valid, 'level', l.ks) || CASE WHEN th.ks_confidence IS NOT NULL THEN jsonb_build_object('floor', fl.ks) || fm.ks_json ELSE '{}' END) ELSE '[]' END
                       || CASE WHEN l.mean_shift IS NOT NULL THEN jsonb_build_array(th.mean_shift_check || jsonb_build_object('value', abs(s.mean_shift), 'n', s.n_valid, 'level', l.mean_shift) || CASE WHEN th.mean_shift_confidence IS NOT NULL THEN jsonb_build_object('floor', fl.mean_shift) || fm.mean_shift_json ELSE '{}' END) ELSE '[]' END
                       || CASE WHEN l.null_rate IS NOT NULL THEN jsonb_build_array(th.null_rate_check || jsonb_build_object('value', s.null_rate - s.baseline_null_rate, 'n', s.n, 'level', l.null_rate) || CASE WHEN th.null_rate_confidence IS NOT NULL THEN jsonb_build_object('floor', fl.null_rate) || fm.null_rate_json ELSE '{}' END) ELSE '[]' END
                       || CASE WHEN l.out_of_range IS NOT NULL THEN jsonb_build_array(th.out_of_range_check || jsonb_build_object('value', s.out_of_range, 'n', s.n_valid, 'level', l.out_of_range) || CASE WHEN th.out_of_range_confidence IS NOT NULL THEN jsonb_build_object('floor', fl.out_of_range) || fm.out_of_range_json ELSE '{}' END) ELSE '[]' END
                       || CASE WHEN l.psi IS NOT NULL THEN jsonb_build_array(th.psi_check || jsonb_build_object('value', s.psi, 'n', s.n_valid, 'level', l.psi) || CASE WHEN th.psi_confidence IS NOT NULL THEN jsonb_build_object('floor', fl.psi) || fm.psi_json ELSE '{}' END) ELSE '[]' END, '[]') END AS checks,
       (ARRAY['not_applicable', 'no_data', 'insufficient_data', 'ok', 'warn', 'alert'])[greatest(
               CASE l.js WHEN 'alert' THEN 6 WHEN 'warn' THEN 5 WHEN 'ok' THEN 4 WHEN 'insufficient_data' THEN 3 WHEN 'no_data' THEN 2 WHEN 'not_applicable' THEN 1 END,
               CASE l.ks WHEN 'alert' THEN 6 WHEN 'warn' THEN 5 WHEN 'ok' THEN 4 WHEN 'insufficient_data' THEN 3 WHEN 'no_data' THEN 2 WHEN 'not_applicable' THEN 1 END,
               CASE l.mean_shift WHEN 'alert' THEN 6 WHEN 'warn' THEN 5 WHEN 'ok' THEN 4 WHEN 'insufficient_data' THEN 3 WHEN 'no_data' THEN 2 WHEN 'not_applicable' THEN 1 END,
               CASE l.null_rate WHEN 'alert' THEN 6 WHEN 'warn' THEN 5 WHEN 'ok' THEN 4 WHEN 'insufficient_data' THEN 3 WHEN 'no_data' THEN 2 WHEN 'not_applicable' THEN 1 END,
               CASE l.out_of_range WHEN 'alert' THEN 6 WHEN 'warn' THEN 5 WHEN 'ok' THEN 4 WHEN 'insufficient_data' THEN 3 WHEN 'no_data' THEN 2 WHEN 'not_applicable' THEN 1 END,
               CASE l.psi WHEN 'alert' THEN 6 WHEN 'warn' THEN 5 WHEN 'ok' THEN 4 WHEN 'insufficient_data' THEN 3 WHEN 'no_data' THEN 2 WHEN 'not_applicable' THEN 1 END)] AS status,
       nullif(concat_ws(', ', CASE WHEN l.js IN ('warn', 'alert') THEN 'js' END,
                     CASE WHEN l.ks IN ('warn', 'alert') THEN 'ks' END,
                     CASE WHEN l.mean_shift IN ('warn', 'alert') THEN 'mean_shift' END,
                     CASE WHEN l.null_rate IN ('warn', 'alert') THEN 'null_rate' END,
                     CASE WHEN l.out_of_range IN ('warn', 'alert') THEN 'out_of_range' END,
                     CASE WHEN l.psi IN ('warn', 'alert') THEN 'psi' END), '') AS firing,
       greatest(CASE WHEN l.js = 'insufficient_data' THEN th.js_min_n END,
                CASE WHEN l.ks = 'insufficient_data' THEN th.ks_min_n END,
                CASE WHEN l.mean_shift = 'insufficient_data' THEN th.mean_shift_min_n END,
                CASE WHEN l.null_rate = 'insufficient_data' THEN th.null_rate_min_n END,
                CASE WHEN l.out_of_range = 'insufficient_data' THEN th.out_of_range_min_n END,
                CASE WHEN l.psi = 'insufficient_data' THEN th.psi_min_n END) AS min_n
  FROM stats s
 CROSS JOIN th
  JOIN base b ON b.model_id = s.model_id AND b.kind = s.kind AND b.position = s.position
  JOIN fam fm ON fm.model_id = b.model_id
 -- each metric's noise floor at the window's and the baseline's sizes (migration 0085; NULL: the window holds no
 -- value, or the metric's confidence is NULL and the thresholds alone judge it), found among the distinct ones
 -- (0086; n_base 0: a baseline of no valid value, NULL to noise_floor)
 CROSS JOIN LATERAL (SELECT coalesce(nullif(round(b.base_n * (1 - b.null_rate)), 0)::bigint, 0) AS n_base) nb
  LEFT JOIN size_floors fs ON s.n_valid > 0 AND fs.n_valid = s.n_valid AND fs.n_base = nb.n_base
                          AND fs.family = b.family
  LEFT JOIN null_floors fn ON s.n > 0 AND fn.n = s.n AND fn.base_n = b.base_n AND fn.null_rate = b.null_rate
                          AND fn.family = b.family
  LEFT JOIN js_floors fj ON s.n_valid > 0 AND fj.n_valid = s.n_valid AND fj.n_base = nb.n_base
                        AND fj.expected = b.expected AND fj.family = b.family
 -- PSI's once per feature and period (OFFSET 0: not pulled up into each expression that reads it)
 CROSS JOIN LATERAL (SELECT CASE WHEN s.n_valid > 0 AND th.psi_confidence IS NOT NULL THEN pgscore.noise_floor('psi', s.n_valid, nullif(nb.n_base, 0), b.expected, th.psi_confidence ^ (1 / b.family::float8)) END AS psi
                     OFFSET 0) fp
 CROSS JOIN LATERAL (SELECT fp.psi, fs.ks, fj.js, fs.mean_shift, fn.floor AS null_rate, fs.out_of_range) fl
 CROSS JOIN LATERAL (SELECT CASE WHEN th.psi_min_n IS NULL THEN NULL WHEN s.n_valid = 0 THEN 'no_data' WHEN s.n_valid < th.psi_min_n THEN 'insufficient_data'
                                WHEN s.psi IS NULL THEN 'not_applicable' WHEN s.psi >= th.psi_alert AND (fl.psi IS NULL OR s.psi > fl.psi) THEN 'alert'
                                WHEN s.psi >= th.psi_warn AND (fl.psi IS NULL OR s.psi > fl.psi) THEN 'warn' ELSE 'ok' END AS psi,
                           CASE WHEN th.ks_min_n IS NULL THEN NULL WHEN s.n_valid = 0 THEN 'no_data' WHEN s.n_valid < th.ks_min_n THEN 'insufficient_data'
                                WHEN s.ks IS NULL THEN 'not_applicable' WHEN s.ks >= th.ks_alert AND (fl.ks IS NULL OR s.ks > fl.ks) THEN 'alert'
                                WHEN s.ks >= th.ks_warn AND (fl.ks IS NULL OR s.ks > fl.ks) THEN 'warn' ELSE 'ok' END AS ks,
                           CASE WHEN th.js_min_n IS NULL THEN NULL WHEN s.n_valid = 0 THEN 'no_data' WHEN s.n_valid < th.js_min_n THEN 'insufficient_data'
                                WHEN s.js IS NULL THEN 'not_applicable' WHEN s.js >= th.js_alert AND (fl.js IS NULL OR s.js > fl.js) THEN 'alert'
                                WHEN s.js >= th.js_warn AND (fl.js IS NULL OR s.js > fl.js) THEN 'warn' ELSE 'ok' END AS js,
                           CASE WHEN th.mean_shift_min_n IS NULL THEN NULL WHEN s.n_valid = 0 THEN 'no_data' WHEN s.n_valid < th.mean_shift_min_n THEN 'insufficient_data'
                                WHEN abs(s.mean_shift) IS NULL THEN 'not_applicable' WHEN abs(s.mean_shift) >= th.mean_shift_alert AND (fl.mean_shift IS NULL OR abs(s.mean_shift) > fl.mean_shift) THEN 'alert'
                                WHEN abs(s.mean_shift) >= th.mean_shift_warn AND (fl.mean_shift IS NULL OR abs(s.mean_shift) > fl.mean_shift) THEN 'warn' ELSE 'ok' END AS mean_shift,
                           CASE WHEN th.null_rate_min_n IS NULL THEN NULL WHEN s.n = 0 THEN 'no_data' WHEN s.n < th.null_rate_min_n THEN 'insufficient_data'
                                WHEN s.null_rate - s.baseline_null_rate IS NULL THEN 'not_applicable' WHEN s.null_rate - s.baseline_null_rate >= th.null_rate_alert AND (fl.null_rate IS NULL OR s.null_rate - s.baseline_null_rate > fl.null_rate) THEN 'alert'
                                WHEN s.null_rate - s.baseline_null_rate >= th.null_rate_warn AND (fl.null_rate IS NULL OR s.null_rate - s.baseline_null_rate > fl.null_rate) THEN 'warn' ELSE 'ok' END AS null_rate,
                           CASE WHEN th.out_of_range_min_n IS NULL THEN NULL WHEN s.n_valid = 0 THEN 'no_data' WHEN s.n_valid < th.out_of_range_min_n THEN 'insufficient_data'
                                WHEN s.out_of_range IS NULL THEN 'not_applicable' WHEN s.out_of_range >= th.out_of_range_alert AND (fl.out_of_range IS NULL OR s.out_of_range > fl.out_of_range) THEN 'alert'
                                WHEN s.out_of_range >= th.out_of_range_warn AND (fl.out_of_range IS NULL OR s.out_of_range > fl.out_of_range) THEN 'warn' ELSE 'ok' END AS out_of_range) l
$fn$;
COMMENT ON FUNCTION pgscore.drift_stats_of(bigint[], text) IS 'drift_stats for the model versions p_model_ids, live or not, each against its own baseline, in the periods of kind p_period_kind (window or day; NULL: both); pgscore.version_drift reads it for one version';
