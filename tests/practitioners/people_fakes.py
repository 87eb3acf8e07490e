"""A generated credit-like table: numeric and text columns, a sensitive column, site domains."""

from __future__ import annotations

import numpy as np
import pandas as pd


def make_people(n: int = 400, seed: int = 0, one_row_group: bool = False) -> pd.DataFrame:
    """Columns age, job, income, sex, race, site and the target credit (good / bad).

    ``one_row_group``: the first row (site south) is the only "Native American" in race.
    """
    r = np.random.default_rng(seed)
    sex = r.choice(["female", "male"], n).astype(object)
    race = r.choice(["A", "B"], n).astype(object)
    site = np.where(r.random(n) < 0.5, "north", "south").astype(object)
    if one_row_group:
        race[0], site[0] = "Native American", "south"
    job = r.choice(["clerk", "manager", "technician"], n).astype(object)
    age = r.integers(18, 70, n)
    income = np.round(r.normal(50, 15, n) + 10 * (sex == "male"), 2)
    logit = 0.08 * (income - 55) + 1.0 * (job == "manager") - 0.03 * (age - 40)
    credit = np.where(r.random(n) < 1 / (1 + np.exp(-logit)), "good", "bad")
    return pd.DataFrame(
        {
            "age": age,
            "job": job,
            "income": income,
            "sex": sex,
            "race": race,
            "site": site,
            "credit": credit,
        }
    )
