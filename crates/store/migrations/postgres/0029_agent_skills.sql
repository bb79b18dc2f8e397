-- Skills for ticket routing (issue 13): the case categories an agent is best at, comma-separated like
-- `languages` (`withdrawal,deposit`). The router gives a case to a skilled candidate when one can take it, and
-- to the others of the department, tier and language otherwise. Admins set them on the routing page.
ALTER TABLE agents ADD COLUMN skills TEXT NOT NULL DEFAULT '';
