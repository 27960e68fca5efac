"""Next-product LSTM over day-bags of purchases, views and add-to-carts (torch, CPU)."""

import logging

from clientele.recommendations.pipeline import lstm_recommendations


def model(dbt, session):
    dbt.config(materialized="table")
    log = logging.getLogger("clientele.recommendations")
    events = dbt.ref("int_recommendations__events").df()
    catalog = dbt.ref("int_recommendations__catalog").df()
    horizons = dbt.ref("int_recommendations__horizons").df()
    if not (events["event_type"] != "purchase").any():
        log.info("recommendations_lstm: no web events in this dataset; "
                 "sequences use purchases only")
    # dbt only passes the config keys it sees in top-level dbt.config.get calls.
    penalty_grid = str(dbt.config.get("lstm_penalty_grid"))
    exposure_grid = str(dbt.config.get("lstm_exposure_cap_grid"))
    result = lstm_recommendations(
        events, catalog, horizons,
        top_k=int(dbt.config.get("candidates")),
        penalty_grid=[float(p) for p in penalty_grid.split(",")],
        exposure_grid=[float(p) for p in exposure_grid.split(",")],
        max_recall_loss=float(dbt.config.get("lstm_max_recall_loss")),
        fallback_penalty=float(dbt.config.get("lstm_popularity_penalty")),
        max_steps=int(dbt.config.get("lstm_max_steps")),
        max_events_per_step=int(dbt.config.get("lstm_max_events_per_step")),
        epochs=int(dbt.config.get("lstm_epochs")),
        time_budget_s=float(dbt.config.get("lstm_time_budget_s")),
        embedding_dim=int(dbt.config.get("lstm_embedding_dim")),
        hidden_dim=int(dbt.config.get("lstm_hidden_dim")),
        batch_size=int(dbt.config.get("lstm_batch_size")),
        learning_rate=float(dbt.config.get("lstm_learning_rate")),
        threads=int(dbt.config.get("lstm_threads")),
        seed=int(dbt.config.get("seed")),
    )
    log.info("recommendations_lstm: %d rows", len(result))
    return result
