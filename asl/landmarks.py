"""The MediaPipe Holistic landmark layout of the GISLR data and the landmark selection the models use.

Every index array here is derived from `HOLISTIC_PARTS`; none is typed twice.
"""

from __future__ import annotations

import numpy as np

#: Parts of one Holistic frame, in the order their rows appear in a Kaggle parquet file.
HOLISTIC_PARTS: tuple[tuple[str, int], ...] = (
    ("face", 468),
    ("left_hand", 21),
    ("pose", 33),
    ("right_hand", 21),
)
PART_NAMES: tuple[str, ...] = tuple(name for name, _ in HOLISTIC_PARTS)
ROWS_PER_FRAME: int = sum(size for _, size in HOLISTIC_PARTS)  # 543


def part_rows(part: str) -> np.ndarray:
    """Row indices (0..542) of one part within a frame."""
    start = 0
    for name, size in HOLISTIC_PARTS:
        if name == part:
            return np.arange(start, start + size)
        start += size
    raise KeyError(f"unknown Holistic part {part!r}; parts are {', '.join(PART_NAMES)}")


def frame_layout() -> tuple[np.ndarray, np.ndarray]:
    """The `type` and `landmark_index` columns of one frame (543 rows), as Kaggle writes them."""
    types = np.concatenate([np.full(size, name, dtype=object) for name, size in HOLISTIC_PARTS])
    indices = np.concatenate([np.arange(size, dtype=np.int16) for _, size in HOLISTIC_PARTS])
    return types, indices


#: The 40 lip points of the face mesh used by the seed.
LIP_POINTS = np.array([
    61, 185, 40, 39, 37, 0, 267, 269, 270, 409,
    291, 146, 91, 181, 84, 17, 314, 405, 321, 375,
    78, 191, 80, 81, 82, 13, 312, 311, 310, 415,
    95, 88, 178, 87, 14, 317, 402, 318, 324, 308,
])
#: Pose points 11 to 24: shoulders, elbows, wrists, hands and hips.
POSE_POINTS = np.arange(11, 25)

#: Face-mesh points of the nose (the 1st-place GISLR solution's).
NOSE_POINTS = np.array([1, 2, 98, 327])
#: Face-mesh points around the right eye, then the left eye (the 1st-place GISLR solution's).
EYE_POINTS = np.array([
    33, 7, 163, 144, 145, 153, 154, 155, 133, 246, 161, 160, 159, 158, 157, 173,
    263, 249, 390, 373, 374, 380, 381, 382, 362, 466, 388, 387, 386, 385, 384, 398,
])

#: The named landmark groups `preprocess.landmarks` chooses from, as rows within the 543-row frame.
LANDMARK_GROUPS: dict[str, np.ndarray] = {
    "lips": part_rows("face")[LIP_POINTS],
    "left_hand": part_rows("left_hand"),
    "right_hand": part_rows("right_hand"),
    "nose": part_rows("face")[NOSE_POINTS],
    "eyes": part_rows("face")[EYE_POINTS],
    "pose": part_rows("pose")[POSE_POINTS],
}
#: The groups of hands: frames without any of them are what `preprocess.drop_frames: without_hands` drops.
HAND_GROUPS: tuple[str, ...] = ("left_hand", "right_hand")
#: The groups the seed models read, in their order (96 landmarks).
SEED_GROUPS: tuple[str, ...] = ("lips", "left_hand", "right_hand", "pose")


def group_positions(groups: tuple[str, ...] | list[str], group: str) -> np.ndarray:
    """Positions of one group within the concatenation of `groups` (each group's rows in LANDMARK_GROUPS order)."""
    start = 0
    for name in groups:
        size = len(LANDMARK_GROUPS[name])
        if name == group:
            return np.arange(start, start + size)
        start += size
    raise KeyError(f"landmark group {group!r} is not among {', '.join(groups)}")


def group_rows(groups: tuple[str, ...] | list[str]) -> np.ndarray:
    """Rows of a 543-row frame of the concatenated `groups`, in their order."""
    return np.concatenate([LANDMARK_GROUPS[name] for name in groups])


#: The selected landmarks, in model order, as (part, rows within the frame).
SELECTION: tuple[tuple[str, np.ndarray], ...] = tuple((name, LANDMARK_GROUPS[name]) for name in SEED_GROUPS)
#: Rows of a 543-row frame that the models use (96).
SELECTED_ROWS: np.ndarray = np.concatenate([rows for _, rows in SELECTION])
N_SELECTED: int = len(SELECTED_ROWS)


def selected_positions(part: str) -> np.ndarray:
    """Positions (0..95) of one selected part within the selection."""
    start = 0
    for name, rows in SELECTION:
        if name == part:
            return np.arange(start, start + len(rows))
        start += len(rows)
    raise KeyError(f"unknown selected part {part!r}; parts are {', '.join(name for name, _ in SELECTION)}")


#: Positions of both hands within the selection (42).
HAND_POSITIONS: np.ndarray = np.concatenate([selected_positions("left_hand"), selected_positions("right_hand")])


def lip_counterparts() -> dict[int, int]:
    """The mirror counterpart of each lip point (face-mesh index), from MediaPipe's face-mesh symmetry.

    FACEMESH_LIPS (LIP_CONNECTIONS) lists four paths from one mouth corner to the other (outer lower, outer upper,
    inner lower, inner upper); the mesh is symmetric, so a path's i-th point from one corner is the mirror image of
    its i-th point from the other (61 ↔ 291, 185 ↔ 409, ...; the mid-line points 0, 13, 14, 17 are their own).
    """
    paths: list[list[int]] = []
    for start, end in LIP_CONNECTIONS:
        if paths and paths[-1][-1] == start:
            paths[-1].append(end)
        else:
            paths.append([start, end])
    return {point: counterpart for path in paths for point, counterpart in zip(path, reversed(path))}


def mirror_permutation(groups: tuple[str, ...] | list[str] = SEED_GROUPS) -> np.ndarray:
    """Positions to gather so that a horizontally mirrored selection of `groups` (the seed's 96 points by default)
    keeps left and right in their places: the hands swap, and so do the left and right points of the pose, lips,
    eyes and nose (models read landmarks in a fixed order). `holistic_mirror_permutation` restricted to the groups."""
    rows = group_rows(groups)
    position = {row: i for i, row in enumerate(rows)}
    return np.array([position[row] for row in holistic_mirror_permutation()[rows]])


#: Edges between the 21 hand points (MediaPipe `mp.solutions.hands.HAND_CONNECTIONS`).
HAND_CONNECTIONS: tuple[tuple[int, int], ...] = (
    (0, 1), (1, 2), (2, 3), (3, 4), (0, 5), (5, 6), (6, 7), (7, 8), (5, 9), (9, 10), (10, 11), (11, 12),
    (9, 13), (13, 14), (14, 15), (15, 16), (13, 17), (0, 17), (17, 18), (18, 19), (19, 20),
)
#: Edges of the lip outline, in face-mesh indices (MediaPipe `mp.solutions.face_mesh.FACEMESH_LIPS`).
LIP_CONNECTIONS: tuple[tuple[int, int], ...] = (
    (61, 146), (146, 91), (91, 181), (181, 84), (84, 17), (17, 314), (314, 405), (405, 321), (321, 375),
    (375, 291), (61, 185), (185, 40), (40, 39), (39, 37), (37, 0), (0, 267), (267, 269), (269, 270),
    (270, 409), (409, 291), (78, 95), (95, 88), (88, 178), (178, 87), (87, 14), (14, 317), (317, 402),
    (402, 318), (318, 324), (324, 308), (78, 191), (191, 80), (80, 81), (81, 82), (82, 13), (13, 312),
    (312, 311), (311, 310), (310, 415), (415, 308),
)
#: Edges among pose points 11-24 (MediaPipe `mp.solutions.pose.POSE_CONNECTIONS`, restricted to them).
POSE_CONNECTIONS: tuple[tuple[int, int], ...] = (
    (11, 12), (11, 13), (13, 15), (15, 17), (15, 19), (15, 21), (17, 19), (12, 14), (14, 16), (16, 18),
    (16, 20), (16, 22), (18, 20), (11, 23), (12, 24), (23, 24),
)


def selected_connections() -> dict[str, np.ndarray]:
    """Edges (E, 2) between positions (0..95) of the selection, per part, for drawing a skeleton."""
    lips = {point: i for i, point in enumerate(LIP_POINTS)}
    pose = {point: i for i, point in enumerate(POSE_POINTS)}
    edges = {
        "lips": [(lips[a], lips[b]) for a, b in LIP_CONNECTIONS],
        "left_hand": HAND_CONNECTIONS,
        "right_hand": HAND_CONNECTIONS,
        "pose": [(pose[a], pose[b]) for a, b in POSE_CONNECTIONS],
    }
    return {part: selected_positions(part)[np.array(pairs)] for part, pairs in edges.items()}


def _pose_counterpart(point: int) -> int:
    """MediaPipe Pose: 0 is the nose, 1-3 the left eye and 4-6 the right eye, then left/right pairs (odd = left)."""
    if point == 0:
        return 0
    if point <= 6:
        return point + 3 if point <= 3 else point - 3
    return point + 1 if point % 2 else point - 1


def face_counterparts() -> dict[int, int]:
    """The mirror counterpart of each face-mesh point of the lips, eyes and nose (the groups models read): the lips
    from MediaPipe's lip paths (`lip_counterparts`), the eyes pairwise (EYE_POINTS lists the right eye, then the left
    in the same order), the nose's 98 and 327 (1 and 2 lie on the mid-line)."""
    right_eye, left_eye = EYE_POINTS[:len(EYE_POINTS) // 2], EYE_POINTS[len(EYE_POINTS) // 2:]
    pairs = {**dict(zip(right_eye, left_eye)), **dict(zip(left_eye, right_eye)), 98: 327, 327: 98, 1: 1, 2: 2}
    return {**lip_counterparts(), **{int(point): int(counterpart) for point, counterpart in pairs.items()}}


def holistic_mirror_permutation() -> np.ndarray:
    """Rows to gather so that a horizontally mirrored Holistic frame (543 rows) keeps left and right in their places:
    the hands swap, and so do the pose's left and right points and those of the lips, eyes and nose. Other face
    points (which the models do not read) stay where they are."""
    permutation = np.arange(ROWS_PER_FRAME)
    left, right = part_rows("left_hand"), part_rows("right_hand")
    permutation[left], permutation[right] = right, left
    pose = part_rows("pose")
    permutation[pose] = pose[[_pose_counterpart(point) for point in range(len(pose))]]
    face = part_rows("face")
    for point, counterpart in face_counterparts().items():
        permutation[face[point]] = face[counterpart]
    return permutation
