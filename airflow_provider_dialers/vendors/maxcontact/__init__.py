"""MaxContact: the *Management API* and its *Token API*, document version 1.3.

Implements ``/work/shared/vendor-docs/002_a3c19a6e25fcc84f.txt`` ("MaxContact Management API",
document version 1.3; see that folder's INDEX.md). The layers:

* :mod:`.wire`: the entities (*Campaign*, *List*, *Team*, *User*, *SkillUserResult*), the appendix
  tables, the paths and headers, and the ManagementActionResponse's refusal fields. No HTTP.
* :mod:`.records`: a campaign spec checked and turned into a *Campaign* entity, and Campaign
  entities turned into capability results (progress, emergency changes). No HTTP.
* :mod:`.auth`: :class:`~.auth.MaxContactTokenAuth`, the ``TokenKey`` cookie of the Token API.
* :mod:`.api`: :class:`~.api.MaxContactApi`, one method per documented endpoint.
* :mod:`.hook`: :class:`~.hook.MaxContactHook`, the vendor-neutral capabilities over that API.

``airflow_provider_dialers.hooks.maxcontact`` keeps the public import path of these names.
"""
