import numpy as np

from asl import landmarks


def test_layout_has_543_rows_in_kaggle_order():
    assert landmarks.ROWS_PER_FRAME == 543
    assert landmarks.part_rows("face")[[0, -1]].tolist() == [0, 467]
    assert landmarks.part_rows("left_hand")[[0, -1]].tolist() == [468, 488]
    assert landmarks.part_rows("pose")[[0, -1]].tolist() == [489, 521]
    assert landmarks.part_rows("right_hand")[[0, -1]].tolist() == [522, 542]
    types, indices = landmarks.frame_layout()
    assert len(types) == len(indices) == 543
    assert types[468] == "left_hand" and indices[468] == 0


def test_selection_is_the_seeds_96_landmarks():
    rows = landmarks.SELECTED_ROWS
    assert len(rows) == landmarks.N_SELECTED == 96
    assert len(set(rows.tolist())) == 96
    assert rows[:40].tolist() == landmarks.LIP_POINTS.tolist()  # face rows are the mesh indices
    assert rows[-14:].tolist() == list(range(500, 514))  # pose 11..24
    assert landmarks.HAND_POSITIONS.tolist() == list(range(40, 82))


def test_mirror_permutation_swaps_hands_and_pose_sides():
    permutation = landmarks.mirror_permutation()
    assert np.array_equal(permutation[permutation], np.arange(96))  # an involution
    left, right = landmarks.selected_positions("left_hand"), landmarks.selected_positions("right_hand")
    assert permutation[left].tolist() == right.tolist()
    pose = landmarks.selected_positions("pose")
    assert permutation[pose[0]] == pose[1]  # pose 11 (left shoulder) ↔ 12 (right shoulder)


def test_unknown_part_names_the_valid_ones():
    try:
        landmarks.part_rows("tail")
    except KeyError as error:
        assert "left_hand" in str(error)
    else:
        raise AssertionError("expected KeyError")


def test_lip_mirror_pairs_follow_the_mouth_outline():
    from asl.landmarks import LIP_POINTS, holistic_mirror_permutation, lip_mirror_pairs, part_rows

    pairs = lip_mirror_pairs()
    assert set(pairs) == set(LIP_POINTS.tolist())
    expected = {61: 291, 185: 409, 40: 270, 146: 375, 78: 308, 95: 324, 191: 415, 13: 13, 14: 14, 0: 0, 17: 17}
    assert {point: pairs[point] for point in expected} == expected
    assert all(pairs[pairs[point]] == point for point in pairs)
    permutation = holistic_mirror_permutation()
    assert sorted(permutation) == list(range(543)) and (permutation[permutation] == range(543)).all()
    pose = part_rows("pose")
    assert permutation[pose[0]] == pose[0] and permutation[pose[1]] == pose[4] and permutation[pose[15]] == pose[16]
    assert permutation[part_rows("face")[1]] == part_rows("face")[1]  # face points outside the lips stay
