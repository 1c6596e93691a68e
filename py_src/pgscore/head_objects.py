"""The tables, views and functions pgscore's schema has at its head revision, by name (the tables not the log's
partitions, which are made by the day): what `pgscore status` and `pgscore install` compare a database at head
with (migrate.missing_objects), to say what a restore left out (pg_dump -T 'pgscore.prediction_log*' leaves out
the audit log and the views that read it). A revision that adds, renames or drops one changes these lists:
tests/test_partial_restore.py fails and prints them as a new install at head has them."""

TABLES = (
    "alert_silences", "alert_state", "artifacts", "baselines", "deployments", "drift_rollup", "drift_rollup_day",
    "drift_threshold_overrides", "drift_thresholds", "drift_windows", "error_queue", "evaluators", "install_info",
    "log_pending", "log_retention", "model_locks", "models", "monitoring_state", "outcome_version_matches", "outcomes",
    "prediction_log", "replicated_pending", "rescoring", "retention_policy", "shadow_failures", "shadows",
    "threshold_writes",
)

VIEWS = (
    "alerts", "baseline_bins", "calibration", "class_drift", "drift_by_day", "drift_checks", "drift_report",
    "drift_rows", "feature_drift", "firing", "judged_predictions", "judged_predictions_by_version", "live_models",
    "model_versions", "monitoring_periods", "outcome_matches", "performance_by_day",
    "performance_by_day_by_version", "performance_rows", "prediction_values", "predictions", "realised_against_live",
    "realised_performance", "realised_performance_by_outcome_time", "realised_performance_by_version", "score_drift",
    "shadow_comparison", "shadow_pairs", "shadow_versions", "window_checks",
)

FUNCTIONS = (
    "activate", "alerts_of", "attach_rescoring", "backfill_rescoring", "batch_chunks", "batch_error", "batch_row",
    "batch_sql", "cached_models", "category_code", "check_live_version_fed", "check_period_kind", "check_rows", "check_threshold_order",
    "class_counts_of", "class_drift_stats", "class_drift_stats_of", "clear_shadow", "clear_thresholds",
    "count_shadow_failure", "create_log_partitions", "delete_model", "detach_rescoring", "drift_counts",
    "drift_counts_of", "drift_rows_of", "drift_stats", "drift_stats_of", "drop_log_partitions", "effective_thresholds",
    "end_shadow_made_live", "erase_entity", "explain_model_delete", "feature_number", "feature_order_differs",
    "firing_of", "float8_array", "float8_array_unchecked", "float8_image", "flush_query_log", "forbid_log_update",
    "forbid_mutation", "forget_deleted_namesake", "forget_rescoring", "guard_alert_silences", "health", "jsonb_float8",
    "judge", "lift_silence", "load_model", "load_or_refuse", "match_outcomes", "metrics", "model_name_hint", "noise_floor",
    "normal_quantile", "performance_rows_of", "performance_stats", "performance_stats_of", "predict", "predict_batch",
    "predict_proba", "record_outcome", "redact_log_features", "refresh_monitoring", "refresh_windows",
    "refuse_read_only", "refuse_subscribed_registry", "register_model", "rescore_events", "rescore_profiles", "rescore_replicated",
    "resign_models", "retire", "retry_failed", "rollback",
    "score", "score_chunk", "score_columns_read", "score_table", "score_table_commit", "server_python", "set_shadow",
    "set_thresholds",
    "shadow_drift_stats", "shadow_performance_stats", "signing_on", "silence_alerts", "stamp_threshold_overrides",
    "validate_environment", "version_drift", "window_drift_stats",
)

# how many forms (signatures) the functions with more than one have: a DROP FUNCTION of one form is missing too
FORMS = {
    "category_code": 2, "feature_number": 2, "health": 2, "judge": 4, "performance_stats": 2, "predict": 2,
    "predict_proba": 2, "record_outcome": 9, "score": 2,
}
