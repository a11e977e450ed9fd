"""The user profile's fields, and which of them each user scope reveals (api-reference/user/).

No wire format and no store here: `methods/user.py` renders and writes what these lists name.
"""

from __future__ import annotations

import re
from typing import Any

from orderlink import coerce

# The three versions of the user scope (user-scope.md): `user_brief` names only, `user_basic`
# adds the contact details, `user` everything (and user.add/user.update).
FULL, BASIC, BRIEF = "user", "user_basic", "user_brief"
SCOPES = (FULL, BASIC, BRIEF)

# Every field, in the order user.fields and user.get print them, with user-fields.md's title.
# UF_FACEBOOK is on user.add's page but not in user.fields' answer (a portal lists only the
# custom fields it has): it is left out of both.
TITLES: dict[str, str] = {
    "ID": "ID", "XML_ID": "External code", "ACTIVE": "Activity", "NAME": "First Name",
    "LAST_NAME": "Last Name", "SECOND_NAME": "Middle Name", "TITLE": "User List",
    "EMAIL": "E-Mail", "LAST_LOGIN": "Last Authorization", "DATE_REGISTER": "Registration Date",
    "TIME_ZONE": "TIME_ZONE", "IS_ONLINE": "IS_ONLINE", "TIMESTAMP_X": "TIMESTAMP_X",
    "LAST_ACTIVITY_DATE": "LAST_ACTIVITY_DATE", "PERSONAL_GENDER": "Gender",
    "PERSONAL_PROFESSION": "Profession", "PERSONAL_WWW": "Homepage",
    "PERSONAL_BIRTHDAY": "Date of Birth", "PERSONAL_PHOTO": "Photo", "PERSONAL_ICQ": "ICQ",
    "PERSONAL_PHONE": "Personal Phone", "PERSONAL_FAX": "Fax",
    "PERSONAL_MOBILE": "Personal Mobile", "PERSONAL_PAGER": "Pager",
    "PERSONAL_STREET": "Residential Street", "PERSONAL_CITY": "Residential City",
    "PERSONAL_STATE": "State / Region", "PERSONAL_ZIP": "Zip Code",
    "PERSONAL_COUNTRY": "Country", "PERSONAL_MAILBOX": "P.O. Box",
    "PERSONAL_NOTES": "Additional Notes", "WORK_PHONE": "Company Phone",
    "WORK_COMPANY": "Company", "WORK_POSITION": "Job Title", "WORK_DEPARTMENT": "Department",
    "WORK_WWW": "Company Website", "WORK_FAX": "WORK_FAX", "WORK_PAGER": "WORK_PAGER",
    "WORK_STREET": "WORK_STREET", "WORK_MAILBOX": "WORK_MAILBOX", "WORK_CITY": "Work City",
    "WORK_STATE": "WORK_STATE", "WORK_ZIP": "WORK_ZIP", "WORK_COUNTRY": "WORK_COUNTRY",
    "WORK_PROFILE": "WORK_PROFILE", "WORK_LOGO": "WORK_LOGO", "WORK_NOTES": "WORK_NOTES",
    "UF_SKYPE_LINK": "Skype Chat Link", "UF_ZOOM": "Zoom", "UF_EMPLOYMENT_DATE": "Hire Date",
    "UF_TIMEMAN": "Time Tracking", "UF_DEPARTMENT": "Units", "UF_INTERESTS": "Interests",
    "UF_SKILLS": "Skills", "UF_WEB_SITES": "Other Websites", "UF_XING": "Xing",
    "UF_LINKEDIN": "LinkedIn", "UF_TWITTER": "Twitter", "UF_SKYPE": "Skype",
    "UF_DISTRICT": "District", "UF_PHONE_INNER": "Extension", "USER_TYPE": "USER_TYPE",
}  # fmt: skip
FIELDS = tuple(TITLES)


def _names(text: str) -> frozenset[str]:
    return frozenset(text.split())


# user-scope.md's two tables. USER_TYPE is in neither, yet a portal with the intranet module
# (every Bitrix24) adds it to both, as user.get's examples show it.
_BASIC = _names(
    """ID XML_ID ACTIVE NAME LAST_NAME SECOND_NAME TITLE EMAIL PERSONAL_PHONE WORK_PHONE
    WORK_POSITION WORK_COMPANY IS_ONLINE TIME_ZONE TIMESTAMP_X DATE_REGISTER LAST_ACTIVITY_DATE
    PERSONAL_PROFESSION PERSONAL_GENDER PERSONAL_BIRTHDAY PERSONAL_PHOTO PERSONAL_FAX
    PERSONAL_MOBILE PERSONAL_PAGER PERSONAL_STREET PERSONAL_MAILBOX PERSONAL_CITY PERSONAL_STATE
    PERSONAL_ZIP PERSONAL_COUNTRY PERSONAL_NOTES WORK_DEPARTMENT WORK_WWW WORK_FAX WORK_PAGER
    WORK_STREET WORK_MAILBOX WORK_CITY WORK_STATE WORK_ZIP WORK_COUNTRY WORK_PROFILE WORK_LOGO
    WORK_NOTES UF_DEPARTMENT UF_DISTRICT UF_SKYPE UF_SKYPE_LINK UF_ZOOM UF_TWITTER UF_XING
    UF_WEB_SITES UF_PHONE_INNER UF_EMPLOYMENT_DATE UF_TIMEMAN UF_SKILLS UF_INTERESTS
    UF_LINKEDIN USER_TYPE"""
)
_BRIEF = _names(
    """ID XML_ID ACTIVE NAME LAST_NAME SECOND_NAME TITLE IS_ONLINE TIME_ZONE PERSONAL_PHOTO
    TIMESTAMP_X DATE_REGISTER PERSONAL_PROFESSION PERSONAL_GENDER PERSONAL_BIRTHDAY
    PERSONAL_CITY PERSONAL_STATE PERSONAL_COUNTRY WORK_POSITION WORK_CITY WORK_STATE
    WORK_COUNTRY LAST_ACTIVITY_DATE UF_EMPLOYMENT_DATE UF_TIMEMAN UF_SKILLS UF_INTERESTS
    UF_DEPARTMENT UF_PHONE_INNER USER_TYPE"""
)

# Keys every user.get row prints, set or not (both users of user-get.md's example have them);
# any other key is printed only when the profile holds a value for it.
ALWAYS = _names(
    """ID ACTIVE NAME LAST_NAME EMAIL LAST_LOGIN DATE_REGISTER IS_ONLINE TIMESTAMP_X
    LAST_ACTIVITY_DATE PERSONAL_GENDER PERSONAL_BIRTHDAY WORK_POSITION UF_EMPLOYMENT_DATE
    UF_DEPARTMENT USER_TYPE"""
)
# Not writable through user.add/user.update (a portal keeps them itself), and files, which are
# accepted and not stored (no file storage here, as crm.contact's PHOTO).
READ_ONLY = frozenset({"ID", "LAST_LOGIN", "DATE_REGISTER", "IS_ONLINE", "TIMESTAMP_X",
                       "LAST_ACTIVITY_DATE", "USER_TYPE"})  # fmt: skip
FILES = frozenset({"PERSONAL_PHOTO", "WORK_LOGO"})
CUSTOM = frozenset(name for name in FIELDS if name.startswith("UF_"))
# Dates: DATE_REGISTER and PERSONAL_BIRTHDAY print as a day (their midnight), LAST_LOGIN as a
# moment; TIMESTAMP_X and LAST_ACTIVITY_DATE as the `{}` user-get.md's example prints for them.
DAYS = frozenset({"DATE_REGISTER", "PERSONAL_BIRTHDAY"})
OPAQUE_DATES = frozenset({"TIMESTAMP_X", "LAST_ACTIVITY_DATE"})
# user.search's name fields (user-search.md): matched from the start of the value ("right
# LIKE"), and FIND, which looks for each of its words in any of them (or the user's ID).
SEARCHED = ("NAME", "LAST_NAME", "SECOND_NAME", "WORK_POSITION")
# user.get's USER_TYPE values (user-get.md).
USER_TYPES = ("employee", "extranet", "email")


def column(name: str) -> str:
    """The users column a non-custom field is stored in (`NAME` -> `name`)."""
    return name.lower()


def strongest(scopes: frozenset[str]) -> str | None:
    """The widest user scope among a caller's (the portal reads `user` first)."""
    return next((scope for scope in SCOPES if scope in scopes), None)


def visible(scope: str) -> tuple[str, ...]:
    """The fields a scope reveals, in the order every answer prints them."""
    if scope == FULL:
        return FIELDS
    allowed = _BASIC if scope == BASIC else _BRIEF
    return tuple(name for name in FIELDS if name in allowed)


def active_flag(value: Any) -> str:
    """ACTIVE as the portal reads a filter or a write: Y/N, true/false, 1/0; anything else
    non-empty is active (PHP truthiness, `N` false), so `"ACTIVE": true` keeps the employed."""
    flag = coerce.to_flag(value)
    if flag is not None:
        return "Y" if flag else "N"
    return "Y" if value not in (None, [], {}) else "N"


_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+\Z")


def valid_email(text: str) -> bool:
    """An address user.add takes (user-add.md's `wrong_email` otherwise)."""
    return bool(_EMAIL.match(text))
