"""What people read of the record: a request's page and timeline, a Nation's record and
its exports, the coordinators' dashboard. Each Nation's deliberations stay its own
(invariant 9: portal.transparency.privacy says who reads what)."""
