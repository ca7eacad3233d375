"""A private OpenLDAP server (Debian's slapd) on a free port of 127.0.0.1, with its own
configuration and database in a temporary folder: never the machine's own directory.

    directory = start_slapd()           # directory.uri: ldap://127.0.0.1:<port>
    directory.add_person("alice", "her-password")
    directory.add_group("line-operators", ["alice"])
    directory.set_members("line-operators", [])
    directory.stop()

Entries: people under ou=people, groups (groupOfNames) under ou=groups of dc=plant,dc=test.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import ldap
import ldap.modlist

from tests.harness.processes import Proc, free_port, spawn, wait_for_port

SLAPD = Path("/usr/sbin/slapd")
SUFFIX = "dc=plant,dc=test"
ADMIN_DN = f"cn=admin,{SUFFIX}"
ADMIN_PASSWORD = "slapd-admin-only-for-tests"
PEOPLE = f"ou=people,{SUFFIX}"
GROUPS = f"ou=groups,{SUFFIX}"
# groupOfNames needs a member; an emptied group keeps this placeholder.
NOBODY = f"cn=nobody,{SUFFIX}"

CONFIG = """\
include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
modulepath /usr/lib/ldap
moduleload back_mdb
pidfile {folder}/slapd.pid
database mdb
maxsize 10485760
suffix "{suffix}"
rootdn "{admin}"
rootpw {password}
directory {folder}/data
"""


def _b(*values: str) -> list[bytes]:
    return [v.encode() for v in values]


@dataclass
class Slapd:
    port: int
    proc: Proc
    folder: Path

    @property
    def uri(self) -> str:
        return f"ldap://127.0.0.1:{self.port}"

    def _connection(self):
        connection = ldap.initialize(self.uri)
        connection.simple_bind_s(ADMIN_DN, ADMIN_PASSWORD)
        return connection

    def _add(self, dn: str, attrs: dict[str, list[bytes]]) -> None:
        connection = self._connection()
        try:
            connection.add_s(dn, ldap.modlist.addModlist(attrs))
        finally:
            connection.unbind_s()

    def person_dn(self, uid: str) -> str:
        return f"uid={uid},{PEOPLE}"

    def group_dn(self, name: str) -> str:
        return f"cn={name},{GROUPS}"

    def add_person(self, uid: str, password: str, *, given: str = "Plant", sn: str = "Person"
                   ) -> None:
        self._add(self.person_dn(uid), {
            "objectClass": _b("inetOrgPerson"), "uid": _b(uid), "cn": _b(f"{given} {sn}"),
            "givenName": _b(given), "sn": _b(sn), "mail": _b(f"{uid}@plant.test"),
            "userPassword": _b(password),
        })

    def add_group(self, name: str, members: list[str]) -> None:
        self._add(self.group_dn(name), {
            "objectClass": _b("groupOfNames"), "cn": _b(name),
            "member": _b(*[self.person_dn(m) for m in members] or [NOBODY]),
        })

    def set_members(self, name: str, members: list[str]) -> None:
        connection = self._connection()
        try:
            connection.modify_s(self.group_dn(name), [(
                ldap.MOD_REPLACE, "member", _b(*[self.person_dn(m) for m in members] or [NOBODY])
            )])
        finally:
            connection.unbind_s()

    def stop(self) -> None:
        self.proc.stop(timeout=5)
        shutil.rmtree(self.folder, ignore_errors=True)


def start_slapd() -> Slapd:
    if not SLAPD.exists():
        raise RuntimeError("slapd is not installed; run `make test` (it installs it) "
                           "or `apt-get install slapd ldap-utils`.")
    folder = Path(tempfile.mkdtemp(prefix="wdash-slapd-"))
    (folder / "data").mkdir()
    conf = folder / "slapd.conf"
    conf.write_text(CONFIG.format(folder=folder, suffix=SUFFIX, admin=ADMIN_DN,
                                  password=ADMIN_PASSWORD))
    port = free_port()
    # -d keeps it in the foreground (its process group is ours to stop); 0: no debug output.
    proc = spawn("slapd", [str(SLAPD), "-f", str(conf), "-h", f"ldap://127.0.0.1:{port}/",
                           "-d", "0"], log=folder / "slapd.log")
    try:
        wait_for_port(port, 15, proc)
        server = Slapd(port, proc, folder)
        server._add(SUFFIX, {"objectClass": _b("dcObject", "organization"), "dc": _b("plant"),
                             "o": _b("Plant")})
        for ou in ("people", "groups"):
            server._add(f"ou={ou},{SUFFIX}", {"objectClass": _b("organizationalUnit"),
                                               "ou": _b(ou)})
    except Exception:
        proc.stop(timeout=5)
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return server
