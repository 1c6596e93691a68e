-- 0092 to 0090: noise_floor as 0088 made it (chi-square for PSI and JS). Replaced in place.

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
        -- n*m/(n+m) * PSI and 8 ln 2 * n*m/(n+m) * JS^2 are chi-square with bins - 1 degrees of freedom (their
        -- quantile by Wilson and Hilferty's cube root)
        IF p_expected IS NULL THEN
            RAISE EXCEPTION 'pgscore.noise_floor: p_expected (the baseline''s share per bin) must be given for %', p_metric
                USING ERRCODE = 'invalid_parameter_value';
        END IF;
        v_df := -1;
        FOREACH v_e IN ARRAY p_expected LOOP  -- (a loop, not a query: this runs per feature and period)
            IF v_e > 0 THEN
                v_df := v_df + 1;
            END IF;
        END LOOP;
        IF v_df <= 0 THEN
            RETURN 0;
        END IF;
        v_chi2 := v_df * greatest(0, 1 - 2.0 / (9 * v_df) + v_z * sqrt(2.0 / (9 * v_df))) ^ 3;
        IF p_metric = 'js' THEN
            RETURN sqrt(v_chi2 * v_inv / (8 * ln(2)));
        END IF;
        -- a bin that stays empty adds (e - 1e-4) ln(e / 1e-4) to PSI (its share floored at 1e-4), not the e of
        -- chi-square: each bin that may well stay empty (a chance over (1 - confidence) / bins) adds the difference
        FOREACH v_e IN ARRAY p_expected LOOP
            IF v_e > 1e-4 AND p_n * ln(greatest(1 - v_e, 1e-300)) > ln((1 - p_confidence) / (v_df + 1)) THEN
                v_allow := v_allow + greatest(0, (v_e - 1e-4) * ln(v_e / 1e-4) - v_e);
            END IF;
        END LOOP;
        RETURN v_chi2 * v_inv + v_allow;
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
COMMENT ON FUNCTION pgscore.noise_floor(text, bigint, bigint, float8[], float8, float8, bigint) IS 'How large p_metric grows by sampling noise alone, at p_confidence, for a window of p_n values (outcomes) against a baseline of p_n_base (NULL: known exactly): PSI and JS by chi-square with a degree of freedom per bin of p_expected (the baseline''s shares) but one, PSI with what its bins that may well stay empty add, KS by the two-sample Kolmogorov distribution, mean shift by its standard error, null_rate by its binomial standard error (p_base: the baseline null rate), out_of_range by the beta-binomial count of values outside the min..max of p_n_base draws, the performance drops by their standard errors at the deploy metric p_base (auc_drop: p_positives of p_n positive). NULL at a NULL confidence';
