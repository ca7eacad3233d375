"""Directory sign-in (docs/sign-in.md): OpenID Connect and LDAP / Active Directory, each off
until its variables are set. Both end in an ordinary Django sign-in, after which the
directory's groups are mapped to the dashboard's roles and sites in one place (groups.py)."""
