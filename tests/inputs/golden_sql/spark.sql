SELECT
  account_id,
  meter,
  usage_date,
  CAST(SUM(CAST(quantity AS DECIMAL(38, 18))) AS DOUBLE) AS quantity,
  COUNT(*) AS `_events`
FROM (
  SELECT
    CAST(account_id AS STRING) AS account_id,
    CAST(meter AS STRING) AS meter,
    CAST(FROM_UTC_TIMESTAMP(usage_ts, 'Europe/Berlin') AS DATE) AS usage_date,
    CAST(quantity AS DOUBLE) AS quantity
  FROM `analytics`.`usage_events`
) AS events
WHERE
  COALESCE(
    account_id IS NOT NULL
    AND meter IS NOT NULL
    AND usage_date IS NOT NULL
    AND quantity >= 0
    AND quantity <> CAST('NaN' AS DOUBLE),
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
  1 AS `_events`
FROM (
  SELECT
    CAST(account_id AS STRING) AS account_id,
    CAST(meter AS STRING) AS meter,
    CAST(FROM_UTC_TIMESTAMP(usage_ts, 'Europe/Berlin') AS DATE) AS usage_date,
    CAST(quantity AS DOUBLE) AS quantity
  FROM `analytics`.`usage_events`
) AS events
WHERE
  NOT COALESCE(
    account_id IS NOT NULL
    AND meter IS NOT NULL
    AND usage_date IS NOT NULL
    AND quantity >= 0
    AND quantity <> CAST('NaN' AS DOUBLE),
    FALSE
  )
