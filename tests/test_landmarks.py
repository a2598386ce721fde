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


def test_holistic_mirror_swaps_hands_pose_and_lip_pairs():
    from asl.landmarks import LIP_POINTS, holistic_mirror_permutation, lip_counterparts, part_rows

    pairs = lip_counterparts()
    assert set(pairs) == set(LIP_POINTS.tolist())
    expected = {61: 291, 185: 409, 40: 270, 146: 375, 78: 308, 95: 324, 191: 415, 13: 13, 14: 14, 0: 0, 17: 17}
    assert {point: pairs[point] for point in expected} == expected
    assert all(pairs[pairs[point]] == point for point in pairs)
    permutation = holistic_mirror_permutation()
    assert sorted(permutation) == list(range(543)) and (permutation[permutation] == range(543)).all()
    pose = part_rows("pose")
    assert permutation[pose[0]] == pose[0] and permutation[pose[1]] == pose[4] and permutation[pose[15]] == pose[16]
    assert permutation[part_rows("face")[1]] == part_rows("face")[1]  # face points outside the lips stay


def test_mirror_swaps_the_lip_pairs_of_the_face_mesh():
    permutation = landmarks.mirror_permutation()
    lips = {point: i for i, point in enumerate(landmarks.LIP_POINTS)}
    for left, right in [(61, 291), (78, 308), (185, 409), (146, 375), (95, 324), (191, 415)]:
        assert permutation[lips[left]] == lips[right] and permutation[lips[right]] == lips[left]
    for middle in (0, 13, 14, 17):
        assert permutation[lips[middle]] == lips[middle]


def test_mirrored_lip_points_land_on_their_counterparts_in_real_recordings(gislr_sample):
    """On real faces, each lip point's mean position (about the mouth's centre), mirrored, is its counterpart's."""
    from asl.data.raw import read_landmarks

    rows = landmarks.part_rows("face")[landmarks.LIP_POINTS]
    centred = []
    for path in sorted((gislr_sample / "train_landmark_files").glob("*/*.parquet")):
        lips = read_landmarks(path, ("x", "y")).values[:, rows]  # (T, 40, 2)
        lips = lips[~np.isnan(lips).any(axis=(1, 2))]
        centred.append(lips - lips.mean(axis=1, keepdims=True))
    mean = np.concatenate(centred).mean(axis=0)  # (40, 2)
    mirrored = mean * [-1.0, 1.0]
    lip_positions = landmarks.mirror_permutation()[landmarks.selected_positions("lips")]
    mouth_width = np.linalg.norm(mean[0] - mean[10])  # 61 to 291
    errors = np.linalg.norm(mirrored[lip_positions] - mean, axis=1)
    assert errors.max() < 0.1 * mouth_width, errors
    assert np.linalg.norm(mirrored - mean, axis=1).mean() > 10 * errors.mean()  # keeping the order is far off
