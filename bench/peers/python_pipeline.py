#!/usr/bin/env python3
"""Peer for `bench/import`: the usual county-office Python pipeline for a ledger workbook.

openpyxl (read_only=True) reads the first sheet, the header row is found among the first rows,
the Chinese headers (and their common variants) are mapped to fields, and pandas validates:
every identity number (18 characters, GB 11643 check digit, a real birth date) and every coded
column against the label sets of crates/xiuhua-domain/data/codes.tsv (label, code or English
label accepted), plus 户类型 and the 是/否 columns. It writes nothing; it counts errors.

    python_pipeline.py LEDGER.xlsx [--codes codes.tsv]

Prints one line: `rows=N households=H errors=E seconds=S` (S: the whole pipeline, from opening
the workbook to the error count; interpreter start-up and imports not included).
"""

import argparse
import datetime as dt
import os
import sys
import time

import numpy as np
import openpyxl
import pandas as pd

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_CODES = os.path.join(HERE, "..", "..", "crates", "xiuhua-domain", "data", "codes.tsv")

# Header variants -> field (the same names xiuhua's crates/xiuhua-xlsx/src/columns.rs knows).
HEADERS = {
    "county": ["县", "县(市、区)", "县(市区)", "县区", "县名称"],
    "township": ["乡(镇)", "乡镇", "乡", "镇", "乡镇(街道)", "乡镇名称"],
    "village": ["行政村", "村", "村(社区)", "行政村名称", "村名称"],
    "group": ["村民小组", "自然村", "组", "自然屯", "自然村(屯)", "村民小组(自然屯)"],
    "village_code": ["行政村代码", "村代码", "区划代码", "行政区划代码"],
    "household_no": ["户编号", "户码", "户号", "户编码"],
    "head_name": ["户主姓名", "户主"],
    "phone": ["户联系电话", "联系电话", "家庭联系电话"],
    "identification_standard": ["识别标准"],
    "attribute": ["贫困户属性", "户属性"],
    "main_cause": ["主要致贫原因", "致贫原因", "致贫原因1"],
    "other_causes": ["其他致贫原因", "次要致贫原因"],
    "status": ["户类型", "贫困户状态", "脱贫状态", "脱贫标志"],
    "identified_year": ["识别年度", "首次识别时间", "识别时间", "纳入年度"],
    "planned_exit_year": ["计划脱贫年度"],
    "exit_year": ["脱贫年度", "脱贫年份", "脱贫时间"],
    "exit_batch": ["脱贫批次"],
    "monitor_type": ["监测对象类型", "易返贫致贫户(监测对象)类型", "监测类型"],
    "risk_eliminated": ["风险是否消除"],
    "risk_identified_on": ["风险识别时间"],
    "risk_eliminated_on": ["风险消除时间"],
    "housing_safety": ["住房安全等级", "危房等级", "住房安全"],
    "water_safe": ["饮水是否安全", "是否解决安全饮用水", "饮水安全"],
    "income_year": ["收入年度"],
    "income_wage": ["工资性收入", "工资性收入(元)"],
    "income_business": ["生产经营性收入", "生产经营性收入(元)"],
    "income_property": ["财产性收入", "财产性收入(元)"],
    "income_transfer": ["转移性收入", "转移性收入(元)"],
    "income_cost": ["生产经营性支出", "生产经营性支出(元)"],
    "name": ["姓名", "成员姓名", "家庭成员姓名"],
    "id_number": ["证件号码", "身份证号", "身份证号码", "公民身份号码", "身份证件号码", "证件号",
                  "公民身份号码或残疾人证号"],
    "relation": ["与户主关系"],
    "sex": ["性别"],
    "ethnicity": ["民族"],
    "political": ["政治面貌"],
    "education": ["文化程度"],
    "schooling": ["在校生状况", "在校生情况", "在校情况"],
    "health": ["健康状况"],
    "labour": ["劳动技能", "劳动能力"],
    "work_status": ["务工状况", "务工情况", "务工区域"],
    "work_months": ["务工时间(月)", "务工时间", "务工月数"],
    "has_medical_insurance": ["是否参加城乡居民基本医疗保险", "是否参加基本医疗保险",
                              "是否参加新型农村合作医疗"],
    "has_pension_insurance": ["是否参加城乡居民基本养老保险", "是否参加基本养老保险"],
    "is_dibao": ["是否享受低保"],
    "member_phone": ["人联系电话", "本人联系电话", "个人联系电话"],
}
# Single-valued coded columns -> code list in codes.tsv; `required` ones must not be empty.
CODED = {
    "identification_standard": "identification_standard",
    "attribute": "household_attribute",
    "main_cause": "poverty_cause",
    "exit_batch": "exit_batch",
    "monitor_type": "monitor_type",
    "housing_safety": "housing_safety",
    "relation": "relation",
    "ethnicity": "ethnicity",
    "political": "political",
    "education": "education",
    "schooling": "schooling",
    "labour": "labour",
    "work_status": "work_status",
}
REQUIRED = ["household_no", "name", "id_number", "relation", "village"]
# Multi-valued coded columns (separated by 、,;，；).
MULTI = {"other_causes": "poverty_cause", "health": "health"}
STATUS = {"一般农户", "普通农户", "非贫困户", "贫困户", "未脱贫", "未脱贫户", "建档立卡贫困户",
          "脱贫户", "已脱贫", "已脱贫户", "已脱贫(享受政策)", "已脱贫(不再享受政策)"}
BOOLS = ["water_safe", "risk_eliminated", "has_medical_insurance", "has_pension_insurance",
         "is_dibao"]
YES_NO = {"是", "否", "有", "无", "Y", "N", "y", "n", "1", "0", "true", "false", "TRUE", "FALSE",
          "√", "×"}

WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2], dtype=np.int64)
CHECK = "10X98765432"


def norm_header(h):
    if h is None:
        return ""
    s = str(h).replace("（", "(").replace("）", ")").replace("*", "")
    return "".join(s.split())


HEADER_OF = {norm_header(v): field for field, vs in HEADERS.items() for v in vs}


def load_codes(path):
    lists = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            if not line.strip() or line.startswith("#"):
                continue
            parts = line.rstrip("\n").split("\t")
            if len(parts) < 3:
                continue
            lst, code, zh = parts[0], parts[1], parts[2]
            en = parts[3] if len(parts) > 3 else ""
            s = lists.setdefault(lst, set())
            s.update([code, zh])
            if en:
                s.add(en)
    return lists


def cell_text(v):
    if v is None:
        return ""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, (dt.datetime, dt.date)):
        return v.strftime("%Y-%m-%d")
    return str(v).strip()


def read_sheet(path):
    wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    ws = wb.worksheets[0]
    rows = ws.iter_rows(values_only=True)
    header, skipped = None, 0
    for r in rows:  # header row: the first of the first 20 rows naming >= 3 known columns
        if sum(1 for c in r if norm_header(c) in HEADER_OF) >= 3:
            header = r
            break
        skipped += 1
        if skipped >= 20:
            break
    if header is None:
        raise SystemExit(f"{path}: no header row in the first 20 rows")
    data = list(rows)
    wb.close()
    df = pd.DataFrame(data, columns=[str(h) for h in header], dtype=object)
    return df, skipped + 1


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("ledger")
    ap.add_argument("--codes", default=DEFAULT_CODES)
    ap.add_argument("--show", type=int, default=0, help="print the first N errors")
    a = ap.parse_args()
    codes = load_codes(a.codes)

    t0 = time.perf_counter()
    df, header_rows = read_sheet(a.ledger)
    t_read = time.perf_counter() - t0

    # header mapping; unknown columns are dropped (and reported)
    rename, unknown = {}, []
    for c in df.columns:
        f = HEADER_OF.get(norm_header(c))
        if f is None:
            unknown.append(c)
        elif f not in rename.values():
            rename[c] = f
    df = df[list(rename)].rename(columns=rename)
    df = df.apply(lambda s: s.map(cell_text))
    df = df[(df != "").any(axis=1)]  # drop blank rows

    errors = pd.Series(0, index=df.index, dtype=np.int64)
    first = []

    def flag(mask, what):
        nonlocal errors
        errors = errors + mask.astype(np.int64)
        if a.show and len(first) < a.show:
            for i in df.index[mask][: a.show - len(first)]:
                first.append(f"row {i + header_rows + 1} {what}: {df.at[i, what]!r}")

    for f in REQUIRED:
        if f in df:
            flag(df[f] == "", f)

    # identity numbers: 18 chars, 17 digits + check digit, real birth date
    if "id_number" in df:
        ids = df["id_number"].str.upper()
        ok_shape = ids.str.fullmatch(r"\d{17}[\dX]")
        good = ids[ok_shape]
        digits = np.frombuffer("".join(good.str[:17]).encode("ascii"), dtype=np.uint8)
        digits = (digits.reshape(-1, 17).astype(np.int64) - 48) if len(good) else digits
        want = np.array(list(CHECK))[(digits @ WEIGHTS) % 11] if len(good) else np.array([])
        ok_check = pd.Series(False, index=df.index)
        ok_check[good.index] = want == good.str[17].to_numpy()
        birth = pd.to_datetime(ids.str[6:14], format="%Y%m%d", errors="coerce")
        ok_birth = birth.notna() & (birth.dt.year >= 1900)
        flag(~(ok_shape & ok_check & ok_birth) & (ids != ""), "id_number")

    for f, lst in CODED.items():
        if f in df:
            flag(~df[f].isin(codes[lst]) & (df[f] != ""), f)
    for f, lst in MULTI.items():
        if f in df:
            allowed = codes[lst]
            parts = df[f].str.split(r"[、,;，；]")
            bad = parts.map(lambda ps: any(p.strip() and p.strip() not in allowed for p in ps))
            flag(bad, f)
    if "status" in df:
        flag(~df["status"].isin(STATUS) & (df["status"] != ""), "status")
    for f in BOOLS:
        if f in df:
            flag(~df[f].isin(YES_NO) & (df[f] != ""), f)

    households = df.loc[df["household_no"] != "", "household_no"].nunique() if "household_no" in df else 0
    n_err = int(errors.sum())
    secs = time.perf_counter() - t0
    for line in first:
        print(line, file=sys.stderr)
    if unknown:
        print(f"unknown columns (not mapped): {', '.join(unknown)}", file=sys.stderr)
    print(f"rows={len(df)} households={households} errors={n_err} "
          f"seconds={secs:.2f} read_seconds={t_read:.2f}")


if __name__ == "__main__":
    main()
