"""Line B: prepaid subscribers, their main-credit ledger and bonus buckets, and profile migrations.

When bonuses are granted (the catalogue says what, this package says when):

- ``trigger: recharge`` bonuses are granted on every qualifying recharge (at least the bonus's
  ``min_recharge`` when it has one): a percentage of the recharge, rounded once half up to the
  currency's minor unit, or the bonus's fixed size.
- ``trigger: monthly`` bonuses are granted once per calendar month (in the subscriber's zone)
  and per profile, at the first qualifying recharge of that month. A unique key
  ``monthly:<msisdn>:<YYYY-MM>:<profile>:<bonus index>`` makes the grant idempotent, so after a
  migration the new profile's monthly bonus comes with the next recharge of the same month, and
  a round trip back to a profile already served this month does not grant its monthly bonus twice.
- Each bonus is a bucket with its own expiry (``validity_days`` after the recharge, same local
  wall time in the subscriber's zone). A migration keeps every bucket as it is.

Consumption draws the credit buckets valid at its instant first (earliest expiry first, then
earliest grant, then id), then the main credit. "Consumption last month" (the eligibility rule)
counts the main credit only, as PRODUCT.md says: what bonus credit paid is not counted.
"""
