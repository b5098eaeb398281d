-- load_events.sql: copies the validated events.csv rows, streamed from Go
-- as the Arrow view arrow_stream, into the events table.
INSERT INTO events (
    transplant_id, event, event_date, grade, detail, source_line
)
SELECT
    transplant_id, event, event_date, grade, detail, source_line
FROM arrow_stream
