-- Sign-off attachments (issue 14): screenshots, a PDF or a text note kept with a person's verdict on a release. The bytes
-- are in the content-addressed file store (like artifacts), by digest; the type was read from the bytes when stored.
CREATE TABLE signoff_attachments (
    id BIGSERIAL PRIMARY KEY,
    signoff_id BIGINT NOT NULL REFERENCES signoffs(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    content_type TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    size BIGINT NOT NULL,
    added_at BIGINT NOT NULL
);
CREATE INDEX signoff_attachments_signoff ON signoff_attachments (signoff_id);
