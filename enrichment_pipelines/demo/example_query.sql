-- Enriched customers by industry, with the share that sells SaaS
SELECT industry_category_enriched AS industry, count(*) AS customers,
       round(avg(is_saas_enriched::INT), 2) AS saas_share
FROM customer_360 WHERE last_outcome = 'enriched'
GROUP BY ALL ORDER BY customers DESC, industry;
