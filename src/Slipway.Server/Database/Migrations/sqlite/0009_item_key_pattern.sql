-- A project's own pattern for work item keys in branch names and commit messages (issue 4, part 2): a regular
-- expression with a group (?<key>...) or (?<number>...) [and (?<prefix>...)], checked when it is saved
-- (KeyPattern.Parse). NULL: the default, a word-bounded PREFIX-NUMBER. Changing it changes only what later runs
-- and releases link; links already made stay.
ALTER TABLE projects ADD COLUMN item_key_pattern TEXT NULL;
