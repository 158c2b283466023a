SELECT
  account_id,
  meter,
  usage_date,
  CAST(SUM(CAST(quantity AS DECIMAL(38, 18))) AS DOUBLE PRECISION) AS quantity,
  COUNT(*) AS "_events"
FROM (
  SELECT
    CAST(account_id AS TEXT) AS account_id,
    CAST(meter AS TEXT) AS meter,
    CAST(usage_ts AT TIME ZONE 'Europe/Berlin' AS DATE) AS usage_date,
    CAST(quantity AS DOUBLE PRECISION) AS quantity
  FROM "analytics"."usage_events"
) AS events
WHERE
  COALESCE(
    account_id IS NOT NULL
    AND meter IS NOT NULL
    AND usage_date IS NOT NULL
    AND quantity >= 0
    AND quantity <> CAST('NaN' AS DOUBLE PRECISION),
    FALSE
  )
GROUP BY
  account_id,
  meter,
  usage_date
UNION ALL
SELECT
  account_id,
  meter,
  usage_date,
  quantity,
  1 AS "_events"
FROM (
  SELECT
    CAST(account_id AS TEXT) AS account_id,
    CAST(meter AS TEXT) AS meter,
    CAST(usage_ts AT TIME ZONE 'Europe/Berlin' AS DATE) AS usage_date,
    CAST(quantity AS DOUBLE PRECISION) AS quantity
  FROM "analytics"."usage_events"
) AS events
WHERE
  NOT COALESCE(
    account_id IS NOT NULL
    AND meter IS NOT NULL
    AND usage_date IS NOT NULL
    AND quantity >= 0
    AND quantity <> CAST('NaN' AS DOUBLE PRECISION),
    FALSE
  )
