-- 0110 to 0111: auc_drop's floor at the hold-out's reliability. noise_floor takes Laplace's AUC of its own smaller
-- class only where that class has 4 or fewer; performance_stats_of passes both terms the deploy AUC at most the
-- Laplace AUC of the hold-out's smaller class, and no longer caps the floor at the deploy AUC (a subquery that
-- called noise_floor twice a term and changed no level); noise_floor's comment says so.

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
    v_s4 float8;
    v_k4 float8;    -- PSI and JS: the fourth cumulant, for what the matched chi-square's tail misses (0096)
    v_d1 float8;
    v_d2 float8;
    v_d3 float8;
    v_cf float8;    -- PSI and JS: the Cornish-Fisher term of the fourth cumulant's excess over the matched one
    v_nu float8;    -- PSI and JS: the shifted and scaled chi-square matching v_mu, v_var and v_k3
    v_scale float8;
    v_shift float8;
    v_empty float8[];  -- PSI: what each bin that stays empty now and then makes of it
    v_e0 float8;    -- PSI: how many of them stay empty in a window, on average
    v_add float8;
    v_term float8;
    v_floor float8;
    v_prev float8;  -- PSI and JS: the last share summed over the counts (quantile bins mostly share their share)
    v_rare integer := 0;  -- PSI: the bins expecting ln(100) values or fewer (0099), their part's mean, variance
    v_r1 float8 := 0;     -- and third cumulant summed apart as well
    v_r2 float8 := 0;
    v_r3 float8 := 0;
    v_dist float8[];  -- PSI (0099): the distribution of the rare bins' and the empties' part on a grid of 33 steps
    v_nd float8[];
    v_h float8;       -- the grid's step
    v_last integer;   -- the highest step holding mass
    v_es float8[];    -- the shares of the bins in v_empty (0099), each run of one share taken at once
    v_pe float8;      -- the run's v_empty
    v_r integer;      -- the run's length
    v_bd float8[];    -- a bin's distribution on the grid, then its powers
    v_nz integer[];   -- the steps of v_bd holding mass
    v_s integer;
    v_a float8[];
    v_blast integer;  -- the highest step of v_bd holding mass
    v_i integer;
    v_lo float8;
    v_hi float8;
    v_x float8;
    v_y float8;
    v_w float8;
    v_t float8;
    v_hsd float8;     -- accuracy_drop (0101): the hold-out's error rate's standard deviation
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
        v_k4 := -48;
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
                    v_d1 := 1 + (0.376 + (0.285 + 1.555 / v_lam) / v_lam) / v_lam;
                    v_d2 := 2 + (2.795 + (2.337 + 42.609 / v_lam) / v_lam) / v_lam;
                    v_d3 := 8 + (27.752 + (2.542 + 1078.827 / v_lam) / v_lam) / v_lam;
                ELSE
                    v_d1 := 1 + (0.489 + (1.311 - 1.474 / v_lam) / v_lam) / v_lam;
                    v_d2 := 2 + (3.414 + (26.718 - 53.039 / v_lam) / v_lam) / v_lam;
                    v_d3 := 8 + (24.391 + (667.982 - 2559.414 / v_lam) / v_lam) / v_lam;
                END IF;
                v_mu := v_mu + v_d1;
                v_var := v_var + v_d2;
                v_k3 := v_k3 + v_d3;
                v_k4 := v_k4 + 1.5 * v_d3 ^ 2 / v_d2;  -- (a scaled chi-square's, as the fit takes it: no excess)
                CONTINUE;
            END IF;
            IF v_e IS NOT DISTINCT FROM v_prev THEN  -- (the sums of the bin before)
                v_mu := v_mu + v_s1;
                v_var := v_var + v_s2 - v_s1 ^ 2;
                v_k3 := v_k3 + v_s3 - 3 * v_s1 * v_s2 + 2 * v_s1 ^ 3;
                v_k4 := v_k4 + v_s4 - 4 * v_s3 * v_s1 - 3 * v_s2 ^ 2 + 12 * v_s2 * v_s1 ^ 2 - 6 * v_s1 ^ 4;
                IF p_metric = 'psi' AND v_lam <= ln(100) THEN
                    v_rare := v_rare + 1;
                    v_r1 := v_r1 + v_s1;
                    v_r2 := v_r2 + v_s2 - v_s1 ^ 2;
                    v_r3 := v_r3 + v_s3 - 3 * v_s1 * v_s2 + 2 * v_s1 ^ 3;
                END IF;
                CONTINUE;
            END IF;
            v_prev := v_e;
            v_p := exp(-v_lam);  -- P(count 0), then each next count's
            v_s1 := 0;
            v_s2 := 0;
            v_s3 := 0;
            v_s4 := 0;
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
                    v_s4 := v_s4 + v_p * v_g ^ 4;
                END IF;
                EXIT WHEN v_p < 1e-290 AND k > v_lam;  -- (the rest is nothing; multiplying on would underflow)
                v_p := v_p * v_lam / (k + 1);
            END LOOP;
            v_mu := v_mu + v_s1;
            v_var := v_var + v_s2 - v_s1 ^ 2;
            v_k3 := v_k3 + v_s3 - 3 * v_s1 * v_s2 + 2 * v_s1 ^ 3;
            v_k4 := v_k4 + v_s4 - 4 * v_s3 * v_s1 - 3 * v_s2 ^ 2 + 12 * v_s2 * v_s1 ^ 2 - 6 * v_s1 ^ 4;
            IF p_metric = 'psi' AND v_lam <= ln(100) THEN
                v_rare := v_rare + 1;
                v_r1 := v_r1 + v_s1;
                v_r2 := v_r2 + v_s2 - v_s1 ^ 2;
                v_r3 := v_r3 + v_s3 - 3 * v_s1 * v_s2 + 2 * v_s1 ^ 3;
            END IF;
        END LOOP;
        IF p_metric = 'psi' AND v_rare > 0 THEN
            -- (migration 0099) bins expecting ln(100) values or fewer (a share of 0.002-0.01 in a window of 100)
            -- make T's tail lumpy: where several fill at once no-drift windows crossed 0096's floor up to 5.7 times
            -- as often as the confidence says (scripts/floor_edges.py: n = 100 over 0.96 and nine of 0.002-0.01,
            -- 0.999^(1/13)), and its allowance for empties put others 1.25-1.65 times over the quantile. Their
            -- part is now summed exactly, each bin's counts (Poisson) convolved on a grid of 33 steps (a count's
            -- mass split between the two steps around it, all past the last on it), with the bins that stay empty
            -- now and then (below) as two points: empty or not. The rest (its moments less theirs) is the
            -- matched chi-square; the floor is the sum's quantile, P(sum > x) the grid's mass times the rest's
            -- tail past x less each step (Wilson and Hilferty's), by bisection
            v_mu := v_mu - v_r1;
            v_var := greatest(v_var - v_r2, 1e-12);
            v_k3 := v_k3 - v_r3;
            v_nu := least(8 * v_var ^ 3 / greatest(v_k3, 1e-12) ^ 2, 1e8);
            v_scale := sqrt(v_var / (2 * v_nu));
            v_shift := v_mu - v_scale * v_nu;
            -- the grid's reach: the part's mean and 20 standard deviations, at most every bin's largest at once
            v_lo := v_r1;
            v_hi := v_r2;
            v_add := 0;
            v_es := '{}';
            v_empty := '{}';  -- each bin's P(empty) where it is two points, else NULL (ln(100) values or fewer)
            FOREACH v_e IN ARRAY p_expected LOOP
                CONTINUE WHEN v_e IS NULL OR NOT (v_e > 0 AND v_e <= 1);
                v_lam := v_neff * v_e;
                v_term := v_neff * (greatest(v_e, 1e-4) - 1e-4) * ln(greatest(v_e, 1e-4) / 1e-4);  -- empty
                IF v_lam <= ln(100) THEN
                    v_c := floor(v_lam + 5 * sqrt(v_lam) + 6) / v_neff;
                    v_add := v_add + greatest(v_term, v_neff * (greatest(v_c, 1e-4) - greatest(v_e, 1e-4))
                                                      * ln(greatest(v_c, 1e-4) / greatest(v_e, 1e-4)));
                    v_empty := v_empty || NULL::float8;
                v_es := v_es || v_e;
                    CONTINUE;
                END IF;
                v_p := 0;
                IF v_e > 1e-4 AND v_e < 1 THEN  -- P(empty) as the allowance below takes it
                    v_p := least(0, p_n * ln(1 - v_e) + coalesce(p_n ^ 2 * v_e / (1 - v_e) / (2 * (p_n_base + 1)), 0));
                    v_p := CASE WHEN v_p > -700 THEN exp(v_p) ELSE 0 END;
                    IF NOT (v_p > (1 - p_confidence) / v_bins AND v_p < 0.01) THEN
                        v_p := 0;
                    END IF;
                END IF;
                v_empty := v_empty || v_p;
                v_es := v_es || v_e;
                IF v_p > 0 THEN
                    v_lo := v_lo + v_p * v_term;
                    v_hi := v_hi + v_p * (1 - v_p) * v_term ^ 2;
                    v_add := v_add + v_term;
                END IF;
            END LOOP;
            v_h := least(v_add, v_lo + 20 * sqrt(greatest(v_hi, 0))) / 32;
            -- each run of bins sharing a share (quantile bins mostly do) as one: the bin's distribution on the grid,
            -- v_bd, raised to the run's length by repeated squaring, the sum capped at the last step as a count's is
            v_dist := array_fill(0::float8, ARRAY[33], ARRAY[0]);
            v_dist[0] := 1;
            v_last := 0;
            v_r := 0;
            FOR j IN 1..cardinality(v_es) + 1 LOOP
                IF v_r > 0 AND (j > cardinality(v_es) OR v_es[j] IS DISTINCT FROM v_e) THEN
                    v_lam := v_neff * v_e;
                    v_bd := array_fill(0::float8, ARRAY[33], ARRAY[0]);
                    v_blast := 0;
                    v_k := CASE WHEN v_pe IS NULL THEN floor(v_lam + 5 * sqrt(v_lam) + 6) ELSE 1 END;
                    v_p := CASE WHEN v_pe IS NULL THEN exp(-v_lam) ELSE v_pe END;  -- P(count 0)
                    FOR k IN 0..v_k LOOP
                        v_c := k / v_neff;
                        IF v_pe IS NULL THEN
                            v_g := v_neff * (greatest(v_c, 1e-4) - greatest(v_e, 1e-4)) * ln(greatest(v_c, 1e-4) / greatest(v_e, 1e-4));
                            v_rate := v_p;
                        ELSE  -- empty (k = 0) or not
                            v_g := CASE WHEN k = 0 THEN v_neff * (greatest(v_e, 1e-4) - 1e-4) * ln(greatest(v_e, 1e-4) / 1e-4) ELSE 0 END;
                            v_rate := CASE WHEN k = 0 THEN v_p ELSE 1 - v_p END;
                        END IF;
                        IF v_rate >= 1e-15 THEN  -- (a count that never comes: none)
                            v_c := CASE WHEN v_h > 0 THEN least(v_g / v_h, 32) ELSE 0 END;
                            v_d1 := v_c - floor(v_c);  -- the share of the mass on the step above
                            v_i := floor(v_c)::integer;
                            v_bd[v_i] := v_bd[v_i] + v_rate * (1 - v_d1);
                            v_i := least(v_i + 1, 32);
                            v_bd[v_i] := v_bd[v_i] + v_rate * v_d1;
                            v_blast := greatest(v_blast, v_i);
                        END IF;
                        IF v_pe IS NULL THEN
                            v_p := v_p * v_lam / (k + 1);
                            EXIT WHEN k > v_lam AND v_p < 1e-15;  -- (falling from here on)
                        END IF;
                    END LOOP;
                    WHILE v_r > 0 LOOP
                        FOR op IN 1..2 LOOP  -- 1: the sum so far times v_bd where the run's length is odd; 2: v_bd squared
                            CONTINUE WHEN CASE WHEN op = 1 THEN v_r % 2 = 0 ELSE v_r = 1 END;
                            v_nz := '{}';  -- v_bd's steps holding mass (1e-17 or less: none, at most 33 times that a step)
                            FOR s IN 0..v_blast LOOP
                                IF v_bd[s] > 1e-17 THEN
                                    v_nz := v_nz || s;
                                END IF;
                            END LOOP;
                            v_a := CASE WHEN op = 1 THEN v_dist ELSE v_bd END;
                            v_i := CASE WHEN op = 1 THEN v_last ELSE v_blast END;
                            v_nd := array_fill(0::float8, ARRAY[33], ARRAY[0]);
                            FOR i IN 0..v_i LOOP
                                v_x := v_a[i];
                                CONTINUE WHEN v_x <= 1e-17;
                                FOREACH v_s IN ARRAY v_nz LOOP
                                    v_nd[least(i + v_s, 32)] := v_nd[least(i + v_s, 32)] + v_x * v_bd[v_s];
                                END LOOP;
                            END LOOP;
                            v_i := least(v_i + v_blast, 32);
                            IF op = 1 THEN
                                v_dist := v_nd;
                                v_last := v_i;
                            ELSE
                                v_bd := v_nd;
                                v_blast := v_i;
                            END IF;
                        END LOOP;
                        v_r := v_r / 2;
                    END LOOP;
                END IF;
                EXIT WHEN j > cardinality(v_es);
                CONTINUE WHEN v_empty[j] = 0;
                v_e := v_es[j];
                v_pe := v_empty[j];
                v_r := v_r + 1;
            END LOOP;
            -- bisection between 0 and the grid's end plus the rest's quantile at 1 - (1 - confidence) / 4 (false
            -- position, Illinois', took 19-43 steps where the sum is lumpy: bisection 20-22)
            v_q2 := pgscore.normal_quantile(1 - (1 - p_confidence) / 4);
            v_lo := 0;
            v_hi := 32 * v_h + greatest(0, v_shift + v_scale * v_nu
                                           * greatest(0, 1 - 2.0 / (9 * v_nu) + v_q2 * sqrt(2.0 / (9 * v_nu))) ^ 3);
            v_c := 1 - 2.0 / (9 * v_nu);  -- Wilson and Hilferty's z = (cbrt(y / nu) - v_c) * v_d1, once
            v_d1 := 1.5 * sqrt(v_nu);
            FOR it IN 1..50 LOOP
                v_x := (v_lo + v_hi) / 2;
                v_rate := v_dist[32];  -- (past the grid's end: counted as over)
                FOR i IN 0..least(v_last, 31) LOOP
                    CONTINUE WHEN v_dist[i] < 1e-15;
                    v_y := (v_x - i * v_h - v_shift) / v_scale;
                    IF v_y <= 0 THEN
                        v_rate := v_rate + v_dist[i];
                        CONTINUE;
                    END IF;
                    -- the rest's tail past it: Wilson and Hilferty's z, the normal tail by erfc (Numerical
                    -- Recipes' Chebyshev fit, within a relative 1.2e-7) at z / sqrt(2)
                    v_w := (cbrt(v_y / v_nu) - v_c) * v_d1;
                    CONTINUE WHEN v_w > 26;
                    v_t := 1 / (1 + 0.5 * abs(v_w));
                    v_t := 0.5 * v_t * exp(-(v_w * v_w) - 1.26551223 + v_t * (1.00002368 + v_t * (0.37409196 + v_t * (0.09678418
                           + v_t * (-0.18628806 + v_t * (0.27886807 + v_t * (-1.13520398 + v_t * (1.48851587
                           + v_t * (-0.82215223 + v_t * 0.17087277)))))))));
                    v_rate := v_rate + v_dist[i] * CASE WHEN v_w >= 0 THEN v_t ELSE 1 - v_t END;
                END LOOP;
                IF v_rate > 1 - p_confidence THEN
                    v_lo := v_x;
                ELSE
                    v_hi := v_x;
                END IF;
                EXIT WHEN v_hi - v_lo <= 1e-6 * v_hi;
            END LOOP;
            RETURN v_hi * v_inv;
        END IF;
        v_var := greatest(v_var, 1e-12);
        v_nu := least(8 * v_var ^ 3 / greatest(v_k3, 1e-12) ^ 2, 1e8);  -- (1e8: as good as normal)
        v_scale := sqrt(v_var / (2 * v_nu));
        v_shift := v_mu - v_scale * v_nu;
        -- (migration 0096) where bins expect about one value or fewer (n = 100 over a bin of 0.96 and nine of
        -- 0.002-0.01) T's tail is heavier than the matched chi-square's: no-drift windows crossed JS's floor 2.2-4.4
        -- times as often as the confidence says. The fourth cumulant (summed over the counts as the others are; a
        -- scaled chi-square's where lambda > 15) adds its excess over the fit's, 12/nu, as Cornish and Fisher's
        -- term (z^3 - 3z)/24 in standard deviations; never less (where the fit's is larger the floor is kept)
        v_cf := sqrt(v_var) / 24 * greatest(0, v_k4 / v_var ^ 2 - 12 / v_nu);
        v_floor := greatest(0, v_shift + v_scale * v_nu * greatest(0, 1 - 2.0 / (9 * v_nu) + v_z * sqrt(2.0 / (9 * v_nu))) ^ 3
                               + v_cf * greatest(0, v_z ^ 3 - 3 * v_z)) * v_inv;
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
                                    * greatest(0, 1 - 2.0 / (9 * v_nu) + v_q2 * sqrt(2.0 / (9 * v_nu))) ^ 3
                                    + v_cf * greatest(0, v_q2 ^ 3 - 3 * v_q2)) * v_inv);
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
        -- (migration 0101) the window's errors are binomial, not normal: where they are few (an error rate e of
        -- 0.05 at 20 to 1,000 outcomes) their upper tail is far longer than z sqrt(e (1 - e) v) allows, and no-drift
        -- windows crossed that floor 1.9-15 times as often as the confidence says (scripts/holdout_floor_noise.py
        -- --positive-rate). Where the window's errors vary by 100 or less the floor is their exact quantile: the
        -- binomial's counts within 16 standard deviations and 16 of the mean, the hold-out's error rate (0098)
        -- normal around e, P(drop > x) summed over the counts and the floor found by bisection (midway between two
        -- counts where the hold-out is exact: a window is over it at the next count up). Else Cornish and
        -- Fisher's skew term on the normal floor
        v_e := 1 - v_rate;  -- the error rate
        v_var := p_n * v_e * (1 - v_e);
        IF v_var <= 0 THEN
            RETURN 0;
        END IF;
        v_hsd := CASE WHEN p_n_base IS NOT NULL THEN sqrt(v_e * (1 - v_e) / p_n_base) ELSE 0 END;
        IF v_var > 100 THEN
            v_s1 := sqrt(v_e * (1 - v_e) * v_inv);
            v_g := v_e * (1 - v_e) * (1 - 2 * v_e) * (1.0 / p_n ^ 2 - coalesce(1.0 / p_n_base ^ 2, 0)) / v_s1 ^ 3;
            RETURN v_s1 * (v_z + (v_z ^ 2 - 1) * v_g / 6);
        END IF;
        v_k := greatest(0, floor(p_n * v_e - 16 * sqrt(v_var) - 16));  -- the lowest count summed
        v_blast := (least(p_n, ceil(p_n * v_e + 16 * sqrt(v_var) + 16)) - v_k)::integer;
        -- ln P(count v_k): ln n! - ln k! - ln (n - k)! (Stirling's series from 20 on) + k ln e + (n - k) ln(1 - e)
        v_y := v_k * ln(v_e) + (p_n - v_k) * ln(1 - v_e);
        FOR op IN 1..3 LOOP
            v_w := CASE op WHEN 1 THEN p_n WHEN 2 THEN v_k ELSE p_n - v_k END;
            IF v_w < 20 THEN
                v_t := 0;
                FOR i IN 2..v_w::integer LOOP
                    v_t := v_t + ln(i);
                END LOOP;
            ELSE
                v_t := (v_w + 0.5) * ln(v_w) - v_w + 0.918938533204672742 + 1 / (12 * v_w) - 1 / (360 * v_w ^ 3)
                       + 1 / (1260 * v_w ^ 5);
            END IF;
            v_y := v_y + CASE WHEN op = 1 THEN v_t ELSE -v_t END;
        END LOOP;
        v_bd := array_fill(0::float8, ARRAY[v_blast + 1], ARRAY[0]);
        FOR i IN 0..v_blast LOOP
            v_bd[i] := CASE WHEN v_y > -700 THEN exp(v_y) ELSE 0 END;
            EXIT WHEN v_k + i >= p_n;
            v_y := v_y + ln((p_n - v_k - i)::float8 / (v_k + i + 1)) + ln(v_e / (1 - v_e));
        END LOOP;
        IF v_hsd < 0.05 / p_n THEN  -- the hold-out as good as exact: the count whose upper tail is within 1 - confidence
            v_cum := 0;
            FOR i IN REVERSE v_blast..0 LOOP
                IF v_cum + v_bd[i] > 1 - p_confidence THEN
                    RETURN (v_k + i + 0.5) / p_n - v_e;
                END IF;
                v_cum := v_cum + v_bd[i];
            END LOOP;
            RETURN (v_k - 0.5) / p_n - v_e;
        END IF;
        -- P(drop > x) = sum over the counts k of P(k) P(hold-out error rate < k / n - x), its root by Newton's
        -- steps from the normal floor, a step that leaves the bracket a bisection instead (bisection alone took
        -- 2-5 ms a call at 500-1,000 outcomes); the counts more than 6 sqrt(2) of the hold-out's standard
        -- deviations above k / n = x + e at P(k) each (their upper tail, v_a, summed once), those as far below
        -- at none (erfc(6) = 2e-17)
        v_a := array_fill(0::float8, ARRAY[v_blast + 2], ARRAY[0]);
        FOR i IN REVERSE v_blast..0 LOOP
            v_a[i] := v_a[i + 1] + v_bd[i];
        END LOOP;
        v_lo := v_k::float8 / p_n - v_e - 12 * v_hsd;
        v_hi := (v_k + v_blast)::float8 / p_n - v_e + 12 * v_hsd;
        v_x := least(greatest(v_z * sqrt(v_e * (1 - v_e) * v_inv), v_lo), v_hi);
        FOR it IN 1..60 LOOP
            v_i := least(v_blast + 1, greatest(0, floor(p_n * (v_x + v_e + 6 * sqrt(2.0) * v_hsd)) - v_k + 1))::integer;
            v_rate := v_a[v_i];
            v_g := 0;  -- the density: minus the derivative of P(drop > x) in x
            FOR i IN greatest(0, ceil(p_n * (v_x + v_e - 6 * sqrt(2.0) * v_hsd)) - v_k)::integer..v_i - 1 LOOP
                CONTINUE WHEN v_bd[i] < 1e-16;
                v_w := ((v_k + i)::float8 / p_n - v_x - v_e) / v_hsd / sqrt(2.0);
                v_y := exp(-(v_w * v_w));
                v_g := v_g + v_bd[i] * v_y;
                v_t := 1 / (1 + 0.5 * abs(v_w));
                v_t := 0.5 * v_t * v_y * exp(-1.26551223 + v_t * (1.00002368 + v_t * (0.37409196 + v_t * (0.09678418
                       + v_t * (-0.18628806 + v_t * (0.27886807 + v_t * (-1.13520398 + v_t * (1.48851587
                       + v_t * (-0.82215223 + v_t * 0.17087277)))))))));
                v_rate := v_rate + v_bd[i] * CASE WHEN v_w >= 0 THEN 1 - v_t ELSE v_t END;
            END LOOP;
            v_g := v_g / (v_hsd * sqrt(2 * pi()));
            IF v_rate > 1 - p_confidence THEN
                v_lo := v_x;
            ELSE
                v_hi := v_x;
            END IF;
            EXIT WHEN v_hi - v_lo <= 1e-7;
            v_y := v_x + (v_rate - (1 - p_confidence)) / nullif(v_g, 0);
            EXIT WHEN abs(v_y - v_x) <= 1e-9;
            v_x := CASE WHEN v_y > v_lo AND v_y < v_hi THEN v_y ELSE (v_lo + v_hi) / 2 END;
        END LOOP;
        RETURN v_x;
    ELSIF p_metric = 'brier_rise' THEN
        -- a squared error in 0..1 with mean b has a variance of at most b (1 - b)
        v_rate := least(greatest(p_base, 0), 1);
        RETURN v_z * sqrt(v_rate * (1 - v_rate) * v_inv);
    ELSIF p_metric = 'rmse_rise' THEN
        -- (migration 0106) RMSE over the deploy RMSE, minus 1: for normal errors the window's MSE over the
        -- hold-out's is F(n, n_base) (n_base NULL: chi-square_n / n), so the floor is sqrt(F_conf) - 1. The
        -- linearised z sqrt(v/2) missed the ratio's right skew: with 100 hold-out rows, no-drift windows of 20 to
        -- 1,000 crossed it 3.1-4.5 times as often as 0.999 says (scripts/rmse_floor_noise.py). F_conf by
        -- Paulson's cube-root normal approximation, the quadratic in y = F^(1/3) solved for its upper root
        -- (Wilson and Hilferty's for chi-square without n_base): at 0.999 within 0.3% of the exact quantile
        -- (scipy's) from 20 values and 100 hold-out rows on, 0.6% from 10 and 50, high by 7% at 10 hold-out
        -- rows (a floor too high, not too low). Near and past where it has no root (a hold-out of a handful of
        -- rows: z^2 2/(9 n_base) too large) it is at most F(infinity, m)'s quantile, m / chi-square_m's lower
        -- (1 - confidence) quantile, which bounds F(n, m)'s from above: 1 / (-ln confidence) at m = 2, used for every
        -- m of 2 or more (F's upper quantiles fall as m grows), 1 / normal_quantile(1 - confidence / 2)^2 at m = 1.
        -- (The linear floor there was 67-1,100 times too low at hold-outs of 2-3 rows, which deploys of 10-15 rows
        -- make, and Paulson's root near the boundary far too high: not monotone in the confidence.) Multiplied in
        -- float8: 9 * n in bigint overflowed past 1.02e18 rows, which a hand-edited holdout_rows may say
        v_c := 2.0 / (9.0 * p_n);
        v_g := coalesce(2.0 / (9.0 * p_n_base), 0);
        v_t := CASE WHEN p_n_base IS NOT NULL AND v_z > 0
                    THEN CASE WHEN p_n_base = 1 THEN 1 / pgscore.normal_quantile(1 - p_confidence / 2) ^ 2
                              ELSE -1 / ln(p_confidence) END END;
        v_w := (1 - v_g) ^ 2 - v_z ^ 2 * v_g;
        IF v_w <= 0 THEN
            RETURN coalesce(sqrt(v_t) - 1, v_z * sqrt(v_inv / 2));
        END IF;
        v_y := ((1 - v_g) * (1 - v_c) + v_z * sqrt((1 - v_g) ^ 2 * v_c + (1 - v_c) ^ 2 * v_g
                                                  - v_z ^ 2 * v_c * v_g)) / v_w;
        -- (a confidence below 0.5 may put F^(1/3) below 0: F's 0)
        RETURN least(sqrt(greatest(v_y, 0) ^ 3), coalesce(sqrt(v_t), 'Infinity'::float8)) - 1;
    END IF;
    -- auc_drop: Hanley and McNeil's standard error at the deploy AUC, p_positives of the p_n outcomes positive.
    -- (migration 0111) Where the smaller class has 4 or fewer, at no more than (m + 1) / (m + 2) (Laplace's rule of
    -- succession, m that count): the AUC of 1-4 positives is skewed to the left, and 0098's normal tail at the
    -- deploy AUC was crossed 1.5-13 times as often as 0.999 says. 0107 took that cap at any m, and at deploy AUCs of
    -- 0.95-0.99 it bound a window of 5-98 positives whose deploy AUC came from a large hold-out: a floor far too
    -- high. The hold-out's own reliability is pgscore.performance_stats_of's to pass: it gives both terms p_base
    -- at most the Laplace AUC of the hold-out's smaller class (scripts/auc_floor_noise.py)
    v_neg := p_n - p_positives;
    IF p_positives IS NULL OR p_positives <= 0 OR v_neg <= 0 THEN
        RETURN NULL;  -- no AUC without both classes
    END IF;
    v_rate := least(greatest(p_base, 0), 1,
                    CASE WHEN least(p_positives, v_neg) <= 4
                         THEN (least(p_positives, v_neg) + 1.0) / (least(p_positives, v_neg) + 2.0) END);
    v_q1 := v_rate / (2 - v_rate);
    v_q2 := 2 * v_rate ^ 2 / (1 + v_rate);
    RETURN v_z * sqrt(greatest(0, v_rate * (1 - v_rate) + (p_positives - 1) * (v_q1 - v_rate ^ 2)
                                  + (v_neg - 1) * (v_q2 - v_rate ^ 2)) / (p_positives::float8 * v_neg));
END
$fn$;

CREATE OR REPLACE FUNCTION pgscore.performance_stats_of(p_by_version boolean, p_model_ids bigint[], p_period_kind text)
RETURNS TABLE (model_id bigint, name text, version integer, task text, period_kind text, period text,
               sort_order integer, n bigint, positives bigint, auc float8, accuracy float8, "precision" float8,
               recall float8, brier float8, log_loss float8, mae float8, rmse float8, deploy_auc float8,
               deploy_accuracy float8, deploy_brier float8, deploy_log_loss float8, deploy_mae float8,
               deploy_rmse float8, checks jsonb, status text, firing text, min_n integer, unmatched_outcomes bigint)
LANGUAGE sql STABLE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET jit = off
SET work_mem = '64MB'
SET extra_float_digits = 1
ROWS 100
AS $fn$
SELECT pgscore.check_period_kind('pgscore.performance_stats_of', p_period_kind);
WITH periods AS MATERIALIZED (SELECT mp.*, row_number() OVER ()::integer AS pid FROM pgscore.monitoring_periods mp
                              WHERE p_period_kind IS NULL OR mp.period_kind = p_period_kind),
jp AS MATERIALIZED (
    SELECT x.model_id, x.task, x.predicted_at, x.score, x.y, x.y_value, x.threshold,
           x.label = x.outcome #>> '{}' AS label_right
      FROM (SELECT * FROM pgscore.judged_predictions WHERE NOT p_by_version
            UNION ALL
            SELECT * FROM pgscore.judged_predictions_by_version WHERE p_by_version) x
     -- (through the by-version view's DISTINCT ON to the matches' scan: only the versions asked for are sorted)
     WHERE p_model_ids IS NULL OR x.model_id = ANY (p_model_ids)
),
j AS (
    SELECT jp.*, p.pid
      FROM jp JOIN periods p ON p.period_kind = 'window' AND jp.predicted_at >= p.starts AND jp.predicted_at < p.ends
    UNION ALL
    -- a day period is [d, d + 24 hours) from a UTC midnight d (monitoring_periods): the day the prediction was made
    SELECT jp.*, p.pid
      FROM jp JOIN periods p ON p.period_kind = 'day' AND p.starts = date_trunc('day', jp.predicted_at, 'UTC')
),
r AS (
    SELECT j.*, rank() OVER (PARTITION BY j.model_id, j.pid ORDER BY j.score)
               + (count(*) OVER (PARTITION BY j.model_id, j.pid, j.score) - 1) / 2.0 AS score_rank
      FROM j
),
s0 AS (  -- AUC from the rank sum of the positives (Mann-Whitney); log loss clipped at float64 eps like scikit-learn
    SELECT r.model_id, r.pid, count(*) AS n, sum(r.y) AS positives,
           ((sum(r.score_rank) FILTER (WHERE r.y = 1) - sum(r.y) * (sum(r.y) + 1) / 2.0)
                / nullif(sum(r.y) * (count(*) - sum(r.y)), 0))::float8 AS auc,
           -- positive above the threshold: a score of exactly 0.5 is the negative class, as predict gives it
           (CASE WHEN min(r.task) = 'binary' THEN avg(((r.score > r.threshold)::integer = r.y)::integer)
                 WHEN min(r.task) = 'multiclass' THEN avg(r.label_right::integer) END)::float8 AS accuracy,
           -- binary only: a multiclass model has no positive class (y is NULL), where these gave 0
           CASE WHEN min(r.task) = 'binary' THEN sum(((r.score > r.threshold) AND r.y = 1)::integer)::float8
               / nullif(sum((r.score > r.threshold)::integer), 0) END AS "precision",
           CASE WHEN min(r.task) = 'binary'
                THEN sum(((r.score > r.threshold) AND r.y = 1)::integer)::float8 / nullif(sum(r.y), 0) END AS recall,
           avg((r.score - r.y) ^ 2) AS brier,
           -avg(r.y * ln(least(greatest(r.score, 2.220446049250313e-16), 1 - 2.220446049250313e-16))
                + (1 - r.y) * ln(1 - least(greatest(r.score, 2.220446049250313e-16), 1 - 2.220446049250313e-16))) AS log_loss,
           avg(abs(r.score - r.y_value)) AS mae,
           sqrt(avg((r.score - r.y_value) ^ 2)) AS rmse
      FROM r
     GROUP BY r.model_id, r.pid
),
s AS (SELECT s0.*, p.period_kind, p.period FROM s0 JOIN periods p ON p.pid = s0.pid),
-- the live versions; per version also every version an outcome judges (from jp, whatever the periods asked
-- for: a version whose judged predictions are all older than the 30 days still has its rows of the windows)
versions AS (
    SELECT lm.model_id FROM pgscore.live_models lm WHERE p_model_ids IS NULL OR lm.model_id = ANY (p_model_ids)
    UNION
    SELECT jp.model_id FROM jp WHERE p_by_version
    UNION
    -- and each version of a model with outcomes recorded that logged a prediction none of them judges (migration
    -- 0090): outcomes recorded under the wrong key left it out, and with it the unmatched_outcomes that say why;
    -- its rows have n 0 and status no_data (two index probes a version: outcomes by name, the log by model_id;
    -- OFFSET 0 keeps each a probe of the versions asked for: pulled up into semi-joins, the whole log was read and
    -- hashed by model_id first, 221 ms at 1,000,000 rows, in every alerts and refresh_monitoring through
    -- shadow_performance_stats even with no shadow set; migration 0103)
    SELECT m.model_id FROM pgscore.models m
     WHERE p_by_version AND (p_model_ids IS NULL OR m.model_id = ANY (p_model_ids))
       AND EXISTS (SELECT 1 FROM pgscore.outcomes o WHERE o.model_name = m.name OFFSET 0)
       AND EXISTS (SELECT 1 FROM pgscore.prediction_log l WHERE l.model_id = m.model_id OFFSET 0)
),
base AS (
    SELECT m.model_id, m.name, m.version, m.task, p.period_kind, p.period, p.sort_order,
           coalesce(s.n, 0) AS n, s.positives, s.auc, s.accuracy, s."precision", s.recall, s.brier, s.log_loss,
           s.mae, s.rmse,
           (m.metrics ->> 'auc')::float8 AS deploy_auc, (m.metrics ->> 'accuracy')::float8 AS deploy_accuracy,
           (m.metrics ->> 'brier')::float8 AS deploy_brier, (m.metrics ->> 'log_loss')::float8 AS deploy_log_loss,
           (m.metrics ->> 'mae')::float8 AS deploy_mae, (m.metrics ->> 'rmse')::float8 AS deploy_rmse
      FROM versions v
      JOIN pgscore.models m ON m.model_id = v.model_id
     CROSS JOIN periods p
      LEFT JOIN s ON s.model_id = m.model_id AND s.period_kind = p.period_kind AND s.period = p.period
),
-- once per model, not once per model and period (each reads every outcome: 35 times over, 2.9 s for 1,000);
-- per version: the model's outcomes that judge no prediction of the version
unmatched AS MATERIALIZED (
    SELECT om.model, NULL::bigint AS model_id, count(*) AS n
      FROM pgscore.outcome_matches om WHERE NOT om.matched AND NOT p_by_version GROUP BY om.model
    UNION ALL
    SELECT t.model_name, v.model_id, t.n - coalesce(k.n, 0)
      FROM (SELECT o.model_name, count(*) AS n FROM pgscore.outcomes o WHERE p_by_version GROUP BY o.model_name) t
      JOIN pgscore.models vm ON vm.name = t.model_name
      JOIN versions v ON v.model_id = vm.model_id
      LEFT JOIN (SELECT c.model_id, count(*) AS n FROM pgscore.outcome_version_matches c
                  WHERE p_by_version GROUP BY c.model_id) k ON k.model_id = v.model_id
)
SELECT b.model_id, b.name, b.version, b.task, b.period_kind, b.period, b.sort_order, b.n, b.positives, b.auc,
       b.accuracy, b."precision", b.recall, b.brier, b.log_loss, b.mae, b.rmse, b.deploy_auc, b.deploy_accuracy,
       b.deploy_brier, b.deploy_log_loss, b.deploy_mae, b.deploy_rmse, c.checks, c.status, c.firing, c.min_n,
       coalesce((SELECT u.n FROM unmatched u WHERE u.model = b.name
                    AND u.model_id IS NOT DISTINCT FROM CASE WHEN p_by_version THEN b.model_id END), 0)
           AS unmatched_outcomes
  FROM base b
 -- each metric's confidence (drift_thresholds; NULL: judged by the threshold alone) and noise floor at the window's
 -- outcomes, against the deploy metric (migration 0085), measured on the hold-out's rows (migration 0098: its
 -- own sampling noise counts too, as the baseline's does in the drift floors; a model registered without
 -- holdout_rows in its metrics is judged as before, its deploy metric as exact). AUC's floor is the window's
 -- and the hold-out's Hanley-McNeil errors combined (the hold-out's positives as recorded, else at the
 -- window's share of positives), since 0111 both at no more than the AUC Laplace's rule gives the hold-out's
 -- smaller class (ho.auc), the window's also at its own where it has 4 or fewer (noise_floor). Not capped at the
 -- deploy AUC (0107 did, in a subquery the planner pulled up, calling noise_floor twice a term): judge flags only
 -- above the floor and no drop exceeds the deploy AUC, so the cap changed no level
 CROSS JOIN (SELECT max(t.confidence) FILTER (WHERE t.metric = 'auc_drop') AS auc_drop,
                    max(t.confidence) FILTER (WHERE t.metric = 'accuracy_drop') AS accuracy_drop,
                    max(t.confidence) FILTER (WHERE t.metric = 'brier_rise') AS brier_rise,
                    max(t.confidence) FILTER (WHERE t.metric = 'rmse_rise') AS rmse_rise
               FROM pgscore.drift_thresholds t) cf
 -- (migration 0111) auc: the AUC both auc_drop terms are taken at, the deploy AUC but at most the Laplace AUC of the
 -- hold-out's smaller class, (m + 1) / (m + 2): the deploy AUC is as sure as the hold-out it was measured on (0107
 -- took each term's own smaller class, and a window of 5-98 positives at deploy AUCs of 0.95-0.99 got a floor far
 -- too high); without a hold-out the deploy AUC, as exact
 CROSS JOIN LATERAL (SELECT p.n_holdout, p.error_kurtosis, p.positives,
                            -- (least() passes over a NULL deploy AUC: a model without one has no floor)
                            CASE WHEN b.deploy_auc IS NOT NULL
                                 THEN least(b.deploy_auc, (least(p.positives, p.n_holdout - p.positives) + 1.0)
                                                          / (least(p.positives, p.n_holdout - p.positives) + 2.0)) END AS auc
                       FROM (SELECT h.n_holdout,
                            -- (least() passes over a NULL)
                            CASE WHEN h.n_holdout IS NOT NULL AND h.error_kurtosis IS NOT NULL
                                 THEN least(h.error_kurtosis, h.n_holdout) END AS error_kurtosis,
                            CASE WHEN b.n > 0 AND b.positives > 0 AND b.positives < b.n AND h.n_holdout > 1
                                 THEN greatest(1, least(h.n_holdout - 1,
                                          coalesce(h.positives, round(h.n_holdout::numeric * b.positives / b.n)::bigint)))
                            END AS positives
                       -- (a count that is not a whole number in bigint's range, 1e30 by a hand edit, is none:
                       -- its cast failed the views for every model; rows without one are judged as before 0098,
                       -- positives without one at the window's share)
                       FROM (SELECT CASE WHEN jsonb_typeof(m.metrics -> 'holdout_rows') = 'number'
                                         THEN CASE WHEN (m.metrics -> 'holdout_rows')::numeric BETWEEN 1 AND 9.2e18
                                                        AND (m.metrics -> 'holdout_rows')::numeric % 1 = 0
                                                   THEN (m.metrics -> 'holdout_rows')::numeric::bigint END
                                    END AS n_holdout,
                                    CASE WHEN jsonb_typeof(m.metrics -> 'holdout_positives') = 'number'
                                         THEN CASE WHEN (m.metrics -> 'holdout_positives')::numeric BETWEEN 0 AND 9.2e18
                                                        AND (m.metrics -> 'holdout_positives')::numeric % 1 = 0
                                                   THEN (m.metrics -> 'holdout_positives')::numeric::bigint END
                                    END AS positives,
                                    -- (0108) a kurtosis is at least 1 (mean(e^4) >= mean(e^2)^2): below, none
                                    CASE WHEN jsonb_typeof(m.metrics -> 'error_kurtosis') = 'number'
                                         THEN CASE WHEN (m.metrics -> 'error_kurtosis')::numeric BETWEEN 1 AND 9.2e18
                                                   THEN (m.metrics -> 'error_kurtosis')::numeric::float8 END
                                    END AS error_kurtosis
                               FROM pgscore.models m WHERE m.model_id = b.model_id) h) p) ho
 -- (migration 0108) rmse_rise's floor for heavy-tailed errors: the F of the MSE ratio at effective degrees of
 -- freedom n 2 / (kappa - 1) and n_base 2 / (kappa - 1) (Box and Andersen's: var(ln MSE) is (kappa - 1) / n, 2 / n
 -- at the normal's kappa of 3), kappa the errors' kurtosis about 0 of the hold-out (error_kurtosis, stored at
 -- deploy, at most its rows), at least 3: never below 0106's floor. Nothing of the window's own shape: pooled with
 -- the window's kurtosis (Layard's), the few huge errors that raise a window's RMSE raised its kurtosis as much
 -- and the floor with it, and a regressor that began to make them was judged ok (1% of 1,000 rows at 30 times the
 -- error: RMSE +212%, floor 797). scripts/rmse_floor_noise.py: no-drift windows of Student t at 3-5 df, Laplace
 -- and lognormal errors crossed 0.999's floor 1.8-64 times as often as it says at this kappa, 20-200 at 0106's.
 -- A model without error_kurtosis (deployed before 0108, or without a hold-out) keeps 0106's floor; the degrees
 -- of freedom are rounded down (a higher floor), at least 1
 CROSS JOIN LATERAL (SELECT CASE WHEN ho.error_kurtosis IS NOT NULL
                                 THEN 2 / (greatest(3, ho.error_kurtosis) - 1) END AS dof) tl
 CROSS JOIN LATERAL (SELECT CASE WHEN b.n > 0 THEN sqrt(pgscore.noise_floor('auc_drop', b.n, NULL, NULL, cf.auc_drop, ho.auc, b.positives) ^ 2
                                                        + coalesce(CASE WHEN ho.positives IS NOT NULL THEN pgscore.noise_floor('auc_drop', ho.n_holdout, NULL, NULL, cf.auc_drop, ho.auc, ho.positives) END ^ 2, 0)) END AS auc_drop,
                            -- (migration 0101) with a hold-out, at the accuracy of the window and hold-out pooled:
                            -- at the hold-out's alone, one of 100 rows with few errors put the floor low, and
                            -- no-drift windows crossed it 9-34 times as often as the confidence says at 0.95
                            CASE WHEN b.n > 0 THEN pgscore.noise_floor('accuracy_drop', b.n, ho.n_holdout, NULL, cf.accuracy_drop,
                                CASE WHEN ho.n_holdout IS NOT NULL AND b.accuracy IS NOT NULL
                                     THEN (b.deploy_accuracy * ho.n_holdout + b.accuracy * b.n) / (ho.n_holdout + b.n)
                                     ELSE b.deploy_accuracy END) END AS accuracy_drop,
                            -- (0101) Brier's likewise: at a hold-out of 100 rows and 5% positives, 0.0086-0.0116 of
                            -- no-drift windows were over the floor at the hold-out's Brier score, 0-0.001 pooled
                            CASE WHEN b.n > 0 THEN pgscore.noise_floor('brier_rise', b.n, ho.n_holdout, NULL, cf.brier_rise,
                                CASE WHEN ho.n_holdout IS NOT NULL AND b.brier IS NOT NULL
                                     THEN (b.deploy_brier * ho.n_holdout + b.brier * b.n) / (ho.n_holdout + b.n)
                                     ELSE b.deploy_brier END) END AS brier_rise,
                            CASE WHEN b.n > 0 THEN pgscore.noise_floor('rmse_rise',
                                CASE WHEN tl.dof < 1 THEN greatest(1, floor(b.n * tl.dof))::bigint ELSE b.n END,
                                CASE WHEN tl.dof < 1 THEN greatest(1, floor(ho.n_holdout * tl.dof))::bigint ELSE ho.n_holdout END,
                                NULL, cf.rmse_rise, b.deploy_rmse) END AS rmse_rise) fl
 CROSS JOIN LATERAL pgscore.judge(
        CASE b.task WHEN 'binary' THEN ARRAY['auc_drop', 'accuracy_drop', 'brier_rise']
                    WHEN 'multiclass' THEN ARRAY['accuracy_drop'] ELSE ARRAY['rmse_rise'] END,
        CASE b.task WHEN 'binary' THEN ARRAY[b.deploy_auc - b.auc, b.deploy_accuracy - b.accuracy, b.brier - b.deploy_brier]
                    WHEN 'multiclass' THEN ARRAY[b.deploy_accuracy - b.accuracy]
                    -- (a hold-out RMSE of 0, a tree fitted to an integer target: any error in service is a rise)
                    -- (no hold-out RMSE at all, a regressor deployed without a target: nothing to compare)
                    ELSE ARRAY[CASE WHEN b.deploy_rmse <> 0 THEN b.rmse / b.deploy_rmse - 1
                                    WHEN b.deploy_rmse = 0 THEN CASE WHEN b.rmse > 0 THEN 1e300
                                                                     WHEN b.rmse = 0 THEN 0 END END] END,
        array_fill(b.n, ARRAY[CASE b.task WHEN 'binary' THEN 3 ELSE 1 END]),
        CASE b.task WHEN 'binary' THEN ARRAY[fl.auc_drop, fl.accuracy_drop, fl.brier_rise]
                    WHEN 'multiclass' THEN ARRAY[fl.accuracy_drop] ELSE ARRAY[fl.rmse_rise] END) c
$fn$;
COMMENT ON FUNCTION pgscore.noise_floor(text, bigint, bigint, float8[], float8, float8, bigint) IS 'How large p_metric grows by sampling noise alone, at p_confidence, for a window of p_n values (outcomes) against a baseline of p_n_base (NULL: known exactly): PSI and JS by a shifted, scaled chi-square matched on the first three moments of the metric under Poisson counts per bin of p_expected (the baseline''s shares, 0094: JS''s too) and their fourth cumulant''s excess (0096, Cornish-Fisher), chi-square with a degree of freedom per bin but one in large windows, PSI with what its bins that stay empty now and then add (0092), its bins expecting ln(100) values or fewer and those empties as their exact sum on a grid, the rest matched (0099), KS by the two-sample Kolmogorov distribution, mean shift by its standard error, null_rate by its binomial standard error (p_base: the baseline null rate), out_of_range by the beta-binomial count of values outside the min..max of p_n_base draws, the performance drops by their standard errors at the deploy metric p_base (auc_drop: p_positives of p_n positive, Hanley-McNeil''s, 0111, where the smaller class has m of 4 or fewer at an AUC of at most (m + 1) / (m + 2), the skew of a few positives'' AUC: 0098''s was crossed 1.5-13 times as often as 0.999 says there; pgscore.performance_stats_of passes both the window''s and the hold-out''s term p_base at most the Laplace AUC of the hold-out''s smaller class, since the deploy AUC is as sure as its hold-out: at the AUC of 1 that 5 hold-out positives may show 0098''s variance was 0, and no-drift windows crossed the floor 33-44 times as often as 0.999 says; 0107 capped each term at its own class, too high a floor at deploy AUCs of 0.95-0.99 and windows of 5-98 positives; accuracy_drop by the window''s binomial error count where it is small, 0101, its hold-out of p_n_base normal; rmse_rise, 0106, as sqrt(F_conf(p_n, p_n_base)) - 1, chi-square_p_n / p_n without p_n_base, the MSE ratio under normal errors, by Paulson''s approximation: the linear z sqrt(v/2) was crossed 3.1-4.5 times as often as 0.999 says at a hold-out of 100 rows; for errors not normal, 0108, pgscore.performance_stats_of passes p_n and p_n_base times 2 / (kappa - 1) rounded down, kappa the errors'' kurtosis about 0 of the hold-out, error_kurtosis in the deploy metrics (at most its rows), at least 3 (Box and Andersen''s correction): at 0106''s, errors from Student t at 3-5 df, Laplace and a lognormal crossed it 20-200 times as often as 0.999 says, at 0108''s 1.8-64; nothing of the window''s own shape: pooled with the window''s kurtosis, a regressor''s few huge errors raised the floor with the RMSE and hid that drift). NULL at a NULL confidence';
COMMENT ON FUNCTION pgscore.performance_stats_of(boolean, bigint[], text) IS 'performance_stats(p_by_version) for the model versions p_model_ids alone (NULL: every one it gives) in the periods of kind p_period_kind (window or day; NULL: both): their rows as performance_stats gives them, without ranking the predictions of other versions or periods; the views of realised performance read it for the periods they report (realised_performance and alerts the windows, performance_by_day the days), shadow_performance_stats for the shadow versions';
