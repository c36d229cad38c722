"""RFM tiers: recency, frequency and monetary quintiles (1–5, 5 best) make tiers A, B and C.

A: score (R+F+M) of 12 or more, B: 8 to 11, C: below 8. Leads (no purchase) have no tier.
A tier set by hand (tier_manual) is kept; its RFM score is still refreshed.
"""

from .db import write_transaction
from .extensions import db

TIER_A_FROM = 12
TIER_B_FROM = 8

_SCORE_CUSTOMERS = f"""
UPDATE customer SET
    rfm_score = scored.score,
    tier = CASE WHEN customer.tier_manual THEN customer.tier ELSE scored.tier END
FROM (
    SELECT id,
           CAST(r AS TEXT) || CAST(f AS TEXT) || CAST(m AS TEXT) AS score,
           CASE WHEN r + f + m >= {TIER_A_FROM} THEN 'A'
                WHEN r + f + m >= {TIER_B_FROM} THEN 'B'
                ELSE 'C' END AS tier
    FROM (
        SELECT id,
               NTILE(5) OVER (ORDER BY last_purchase_at, id) AS r,
               NTILE(5) OVER (ORDER BY purchase_count, id) AS f,
               NTILE(5) OVER (ORDER BY lifetime_value, id) AS m
        FROM customer
        WHERE purchase_count > 0 AND erased_at IS NULL
    ) AS quintiles
) AS scored
WHERE customer.id = scored.id
"""

_CLEAR_LEADS = """
UPDATE customer SET rfm_score = '',
    tier = CASE WHEN tier_manual THEN tier ELSE '' END
WHERE purchase_count = 0 AND erased_at IS NULL
"""


def compute() -> int:
    """Score every customer with purchases and set tiers; returns how many were scored."""
    with write_transaction(db):
        scored = db.execute_sql(_SCORE_CUSTOMERS).rowcount
        db.execute_sql(_CLEAR_LEADS)
    return scored
