"""Small cells in a CSV table of counts, and the totals that give them away
(portal/lifecycle/outputs/smallcells.py): pure functions, read as the reviewers do."""

from portal.lifecycle.outputs.smallcells import find


def flagged(findings) -> list[tuple[str, str, float]]:
    return [(c.row_label, c.column_label, c.value) for c in findings.flagged]


def recoverable(findings) -> list[tuple[str, str, str, str]]:
    return [(r.cell.row_label, r.cell.column_label, r.via, r.label) for r in findings.recoverable]


TABLE = """Region,Girls,Boys,Total
North,12,3,15
South,20,25,45
East,2,1,3
Total,34,29,63
"""


def test_cells_below_the_threshold_are_flagged_zero_and_the_threshold_are_not():
    findings = find("Region,Count\nNorth,0\nSouth,4\nEast,5\nWest,1\n", threshold=5)
    assert flagged(findings) == [("South", "Count", 4), ("West", "Count", 1)]
    assert find("Region,Count\nNorth,4\nSouth,7\n", threshold=1).flagged == []


def test_totals_are_found_by_label_and_the_small_cells_they_give_away_are_named():
    findings = find(TABLE, threshold=5)
    assert findings.total_rows == ["Total"] and findings.total_columns == ["Total"]
    assert flagged(findings) == [
        ("North", "Boys", 3),
        ("East", "Girls", 2),
        ("East", "Boys", 1),
        ("East", "Total", 3),
    ]
    # North's only small cell is recovered from its row total; East has two small cells,
    # so its row total alone does not give either away. Each column has one or two: the
    # Girls column has one (East) and a total row; the Boys column has two.
    assert recoverable(findings) == [
        ("North", "Boys", "row", "North"),
        ("East", "Girls", "column", "Girls"),
    ]


def test_totals_are_found_by_their_sums_without_a_label():
    table = "Area,A,B,All of them\nOne,10,2,12\nTwo,30,40,70\nSum of rows,40,42,82\n"
    unlabelled = "Area,A,B,C\nOne,10,2,12\nTwo,30,40,70\nThree,40,42,82\n"
    for text in (table, unlabelled):
        findings = find(text, threshold=3)
        assert len(findings.total_rows) == 1 and len(findings.total_columns) == 1
        assert recoverable(findings) == [("One", "B", "row", "One"), ("One", "B", "column", "B")]


def test_without_totals_nothing_is_recoverable():
    findings = find("Region,Girls,Boys\nNorth,12,3\nSouth,20,25\n", threshold=5)
    assert flagged(findings) == [("North", "Boys", 3)]
    assert findings.total_rows == findings.total_columns == findings.recoverable == []


def test_text_and_numbers_with_separators_read_as_a_table_would():
    findings = find('Region,Count,Note\nNorth,"1,204",fine\nSouth,2,small\n', threshold=5)
    assert flagged(findings) == [("South", "Count", 2)]


def test_a_table_without_rows_finds_nothing():
    assert find("Region,Count\n", threshold=5).flagged == []
    assert find("", threshold=5).as_dict()["flagged"] == []


def test_a_large_table_counts_every_small_cell_and_lists_the_first():
    from portal.lifecycle.outputs.smallcells import LISTED

    rows = "\n".join(f"Area {i},{1 + i % 3},{50 + i}" for i in range(LISTED + 50))
    findings = find(f"Area,A,B\n{rows}\n", threshold=5)
    assert findings.flagged_count == LISTED + 50 and len(findings.flagged) == LISTED
    assert findings.flagged[0].row_label == "Area 0"
