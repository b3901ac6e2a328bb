"""GraphQL plumbing shared by the domains: context, viewer and permissions, scalars, paging."""
