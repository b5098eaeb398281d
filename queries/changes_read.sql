-- changes_read.sql: returns the rows of results/changes (view
-- changes_file) for the report, in the table's order.
SELECT
    kind, item, endpoint, transplant_type, donor_type, indication, day,
    old, new, old_std_err, new_std_err, old_n, new_n, detail
FROM changes_file
ORDER BY kind, item, endpoint, transplant_type, donor_type, indication, day
