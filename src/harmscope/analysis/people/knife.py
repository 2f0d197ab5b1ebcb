"""Knife- or sharp-instrument-enabled serious violence by the Home Office definition."""

from __future__ import annotations

import pandas as pd

from harmscope.analysis.intervals import rate_with_ci
from harmscope.analysis.people._data import KNIFE_SELECTED, require_crimes, taxonomy
from harmscope.analysis.result import Result


def knife_enabled(store) -> Result:
    """Crimes in the Home Office selected offences with the knife flag set, by code and month."""
    require_crimes(store)
    by_code = store.query(
        """SELECT offence_code AS code, count(*) AS selected,
                  count(*) FILTER (WHERE knife) AS knife
        FROM crimes WHERE offence_code IN (SELECT unnest($codes::VARCHAR[])) GROUP BY 1
        ORDER BY knife DESC""",
        {"codes": list(KNIFE_SELECTED)},
    )
    by_code = by_code.merge(taxonomy()[["code", "label"]], on="code", how="left")
    by_month = store.query(
        """SELECT month, count(*) AS selected, count(*) FILTER (WHERE knife) AS knife
        FROM crimes WHERE offence_code IN (SELECT unnest($codes::VARCHAR[]))
        GROUP BY 1 ORDER BY 1""",
        {"codes": list(KNIFE_SELECTED)},
    )
    unflagged = int(
        store.con.execute("SELECT count(*) FROM crimes WHERE knife IS NULL").fetchone()[0]
    )
    k, n = int(by_code.knife.sum()), int(by_code.selected.sum())
    share, ci = rate_with_ci(k, n)
    summary = {
        "selected_offences": n,
        "knife_enabled": k,
        "knife_share_of_selected": share,
        "knife_share_of_selected_ci": ci,
        "crimes_without_knife_flag": unflagged,
    }
    method = (
        "Home Office definition (ONS 'offences involving the use of weapons'): knife or sharp "
        "instrument offences are counted only in the selected offences - homicide, attempted "
        "murder, threats to kill, assault with injury, assault with intent to cause serious "
        "harm, robbery, rape and sexual assault (codes " + ", ".join(KNIFE_SELECTED) + ") - "
        "where a knife or sharp instrument was used or threatened (the extract's knife flag). "
        "Possession offences are not knife-enabled crime. Assumptions: the flag is recorded "
        "consistently; a blank flag counts as no knife. Uncertainty: the share has a Wilson "
        "95% interval."
    )
    return Result(
        table=by_code, summary=summary, method=method, tables={"by_month": pd.DataFrame(by_month)}
    )
