-- A team's name is unique within its organisation, whatever the letter case: the
-- dashboard and the API tell teams apart by name. Teams that already share a name keep
-- the oldest one's; the others get the start of their id appended, so none is lost.
UPDATE teams SET name = name || ' (' || substr(id, 1, 8) || ')'
WHERE EXISTS (
    SELECT 1 FROM teams older
    WHERE older.org_id = teams.org_id
      AND lower(older.name) = lower(teams.name)
      AND older.id < teams.id
);
CREATE UNIQUE INDEX teams_by_name ON teams (org_id, lower(name));
