"""baseline: one table per feed contract, feed_status

Revision ID: 0001
Revises:
Created: 2026-11-29 21:59:08.577577
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "accidents",
        sa.Column("accident_id", sa.String(length=200), nullable=False),
        sa.Column("ts", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("severity", sa.BigInteger(), nullable=False),
        sa.Column("segment_id", sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint("accident_id"),
    )
    with op.batch_alter_table("accidents", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_accidents_ts"), ["ts"], unique=False)

    op.create_table(
        "air_readings",
        sa.Column("station_id", sa.String(length=200), nullable=False),
        sa.Column("ts", sa.DateTime(timezone=True), nullable=False),
        sa.Column("pm25", sa.Float(), nullable=True),
        sa.Column("pm10", sa.Float(), nullable=True),
        sa.Column("so2", sa.Float(), nullable=True),
        sa.Column("no2", sa.Float(), nullable=True),
        sa.Column("o3", sa.Float(), nullable=True),
        sa.Column("co", sa.Float(), nullable=True),
        sa.Column("averaging", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("station_id", "ts"),
    )
    with op.batch_alter_table("air_readings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_air_readings_ts"), ["ts"], unique=False)

    op.create_table(
        "air_stations",
        sa.Column("station_id", sa.String(length=200), nullable=False),
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("town_code", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("station_id"),
    )
    op.create_table(
        "bus_lines",
        sa.Column("line_id", sa.String(length=200), nullable=False),
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("geometry", sa.Text(), nullable=False),
        sa.Column("scheduled_vehicles", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("line_id"),
    )
    op.create_table(
        "bus_positions",
        sa.Column("vehicle_id", sa.String(length=200), nullable=False),
        sa.Column("ts", sa.DateTime(timezone=True), nullable=False),
        sa.Column("line_id", sa.String(length=200), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("speed_kmh", sa.Float(), nullable=False),
        sa.Column("on_board", sa.BigInteger(), nullable=False),
        sa.Column("capacity", sa.BigInteger(), nullable=False),
        sa.Column("delay_s", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("vehicle_id", "ts"),
    )
    with op.batch_alter_table("bus_positions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_bus_positions_ts"), ["ts"], unique=False)

    op.create_table(
        "bus_stops",
        sa.Column("stop_id", sa.String(length=200), nullable=False),
        sa.Column("line_id", sa.String(length=200), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("stop_id"),
    )
    op.create_table(
        "cameras",
        sa.Column("camera_id", sa.String(length=200), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("system", sa.String(length=200), nullable=False),
        sa.Column("hd", sa.Boolean(), nullable=False),
        sa.Column("networked", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=200), nullable=False),
        sa.Column("town_code", sa.String(length=200), nullable=False),
        sa.Column("village_code", sa.String(length=200), nullable=False),
        sa.Column("status_since", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("camera_id"),
    )
    with op.batch_alter_table("cameras", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_cameras_status_since"), ["status_since"], unique=False)

    op.create_table(
        "events",
        sa.Column("event_id", sa.String(length=200), nullable=False),
        sa.Column("ts", sa.DateTime(timezone=True), nullable=False),
        sa.Column("domain", sa.String(length=200), nullable=False),
        sa.Column("rule_id", sa.String(length=200), nullable=False),
        sa.Column("severity", sa.BigInteger(), nullable=False),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("town_code", sa.String(length=200), nullable=True),
        sa.Column("state", sa.String(length=200), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("event_id"),
    )
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_events_ts"), ["ts"], unique=False)

    op.create_table(
        "feed_status",
        sa.Column("feed", sa.String(length=64), nullable=False),
        sa.Column("last_write_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("rows_written", sa.BigInteger(), nullable=False),
        sa.Column("report_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("report_source", sa.String(length=64), nullable=True),
        sa.Column("rejected", sa.Integer(), nullable=False),
        sa.Column("report", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("feed"),
    )
    op.create_table(
        "key_places",
        sa.Column("place_id", sa.String(length=200), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("category", sa.String(length=200), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("town_code", sa.String(length=200), nullable=False),
        sa.Column("village_code", sa.String(length=200), nullable=False),
        sa.Column("radius_m", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("place_id"),
    )
    op.create_table(
        "parking_lots",
        sa.Column("lot_id", sa.String(length=200), nullable=False),
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("capacity", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("lot_id"),
    )
    op.create_table(
        "parking_occupancy",
        sa.Column("lot_id", sa.String(length=200), nullable=False),
        sa.Column("ts", sa.DateTime(timezone=True), nullable=False),
        sa.Column("occupied", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("lot_id", "ts"),
    )
    with op.batch_alter_table("parking_occupancy", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_parking_occupancy_ts"), ["ts"], unique=False)

    op.create_table(
        "radiation_readings",
        sa.Column("station_id", sa.String(length=200), nullable=False),
        sa.Column("ts", sa.DateTime(timezone=True), nullable=False),
        sa.Column("dose_ngy_h", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("station_id", "ts"),
    )
    with op.batch_alter_table("radiation_readings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_radiation_readings_ts"), ["ts"], unique=False)

    op.create_table(
        "radiation_stations",
        sa.Column("station_id", sa.String(length=200), nullable=False),
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("town_code", sa.String(length=200), nullable=False),
        sa.Column("baseline_ngy_h", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("station_id"),
    )
    op.create_table(
        "rating_indicators",
        sa.Column("indicator_id", sa.String(length=200), nullable=False),
        sa.Column("domain", sa.String(length=200), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("unit", sa.String(length=20), nullable=True),
        sa.Column("direction", sa.String(length=200), nullable=False),
        sa.Column("star1", sa.Float(), nullable=True),
        sa.Column("star2", sa.Float(), nullable=True),
        sa.Column("star3", sa.Float(), nullable=True),
        sa.Column("star4", sa.Float(), nullable=True),
        sa.Column("star5", sa.Float(), nullable=True),
        sa.Column("weight", sa.Float(), nullable=False),
        sa.Column("mandatory", sa.Boolean(), nullable=False),
        sa.Column("department", sa.String(length=40), nullable=False),
        sa.Column("evidence", sa.String(length=400), nullable=True),
        sa.Column("sample", sa.Boolean(), nullable=True),
        sa.PrimaryKeyConstraint("indicator_id"),
    )
    op.create_table(
        "rating_tasks",
        sa.Column("task_id", sa.String(length=200), nullable=False),
        sa.Column("reported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("department", sa.String(length=40), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("due", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=200), nullable=False),
        sa.Column("percent", sa.Float(), nullable=False),
        sa.Column("note", sa.String(length=1000), nullable=True),
        sa.Column("evidence", sa.String(length=400), nullable=True),
        sa.PrimaryKeyConstraint("task_id", "reported_at"),
    )
    with op.batch_alter_table("rating_tasks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_rating_tasks_reported_at"), ["reported_at"], unique=False)

    op.create_table(
        "rating_values",
        sa.Column("indicator_id", sa.String(length=200), nullable=False),
        sa.Column("period", sa.String(length=200), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("evidence", sa.String(length=400), nullable=True),
        sa.Column("reported_by", sa.String(length=40), nullable=False),
        sa.PrimaryKeyConstraint("indicator_id", "period"),
    )
    op.create_table(
        "reservoir_levels",
        sa.Column("reservoir_id", sa.String(length=200), nullable=False),
        sa.Column("ts", sa.DateTime(timezone=True), nullable=False),
        sa.Column("level_m", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("reservoir_id", "ts"),
    )
    with op.batch_alter_table("reservoir_levels", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_reservoir_levels_ts"), ["ts"], unique=False)

    op.create_table(
        "reservoirs",
        sa.Column("reservoir_id", sa.String(length=200), nullable=False),
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("total_capacity_m3", sa.Float(), nullable=True),
        sa.Column("flood_limit_m", sa.Float(), nullable=True),
        sa.Column("design_flood_m", sa.Float(), nullable=True),
        sa.Column("check_flood_m", sa.Float(), nullable=True),
        sa.Column("normal_pool_m", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("reservoir_id"),
    )
    op.create_table(
        "road_segments",
        sa.Column("segment_id", sa.String(length=200), nullable=False),
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("road_class", sa.String(length=200), nullable=False),
        sa.Column("geometry", sa.Text(), nullable=False),
        sa.Column("length_m", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("segment_id"),
    )
    op.create_table(
        "scenic_spots",
        sa.Column("spot_id", sa.String(length=200), nullable=False),
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("capacity_instant", sa.BigInteger(), nullable=False),
        sa.Column("capacity_daily", sa.BigInteger(), nullable=False),
        sa.Column("opening", sa.String(length=200), nullable=False),
        sa.Column("capacity_assumed", sa.Boolean(), nullable=True),
        sa.PrimaryKeyConstraint("spot_id"),
    )
    op.create_table(
        "segment_speeds",
        sa.Column("segment_id", sa.String(length=200), nullable=False),
        sa.Column("ts", sa.DateTime(timezone=True), nullable=False),
        sa.Column("speed_kmh", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("segment_id", "ts"),
    )
    with op.batch_alter_table("segment_speeds", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_segment_speeds_ts"), ["ts"], unique=False)

    op.create_table(
        "towns",
        sa.Column("town_code", sa.String(length=200), nullable=False),
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("geometry", sa.Text(), nullable=False),
        sa.Column("approximate", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("town_code"),
    )
    op.create_table(
        "villages",
        sa.Column("village_code", sa.String(length=200), nullable=False),
        sa.Column("town_code", sa.String(length=200), nullable=False),
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("population", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("village_code"),
    )
    op.create_table(
        "visitor_counts",
        sa.Column("spot_id", sa.String(length=200), nullable=False),
        sa.Column("ts", sa.DateTime(timezone=True), nullable=False),
        sa.Column("in_park", sa.BigInteger(), nullable=False),
        sa.Column("arrivals_today", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("spot_id", "ts"),
    )
    with op.batch_alter_table("visitor_counts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_visitor_counts_ts"), ["ts"], unique=False)

    op.create_table(
        "water_samples",
        sa.Column("section_id", sa.String(length=200), nullable=False),
        sa.Column("ts", sa.DateTime(timezone=True), nullable=False),
        sa.Column("do", sa.Float(), nullable=True),
        sa.Column("codmn", sa.Float(), nullable=True),
        sa.Column("cod", sa.Float(), nullable=True),
        sa.Column("bod5", sa.Float(), nullable=True),
        sa.Column("nh3n", sa.Float(), nullable=True),
        sa.Column("tp", sa.Float(), nullable=True),
        sa.Column("tn", sa.Float(), nullable=True),
        sa.Column("ph", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("section_id", "ts"),
    )
    with op.batch_alter_table("water_samples", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_water_samples_ts"), ["ts"], unique=False)

    op.create_table(
        "water_sections",
        sa.Column("section_id", sa.String(length=200), nullable=False),
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("waterbody", sa.String(length=200), nullable=False),
        sa.Column("target_class", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("section_id"),
    )


def downgrade() -> None:
    op.drop_table("water_sections")
    with op.batch_alter_table("water_samples", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_water_samples_ts"))

    op.drop_table("water_samples")
    with op.batch_alter_table("visitor_counts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_visitor_counts_ts"))

    op.drop_table("visitor_counts")
    op.drop_table("villages")
    op.drop_table("towns")
    with op.batch_alter_table("segment_speeds", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_segment_speeds_ts"))

    op.drop_table("segment_speeds")
    op.drop_table("scenic_spots")
    op.drop_table("road_segments")
    op.drop_table("reservoirs")
    with op.batch_alter_table("reservoir_levels", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reservoir_levels_ts"))

    op.drop_table("reservoir_levels")
    op.drop_table("rating_values")
    with op.batch_alter_table("rating_tasks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rating_tasks_reported_at"))

    op.drop_table("rating_tasks")
    op.drop_table("rating_indicators")
    op.drop_table("radiation_stations")
    with op.batch_alter_table("radiation_readings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_radiation_readings_ts"))

    op.drop_table("radiation_readings")
    with op.batch_alter_table("parking_occupancy", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_parking_occupancy_ts"))

    op.drop_table("parking_occupancy")
    op.drop_table("parking_lots")
    op.drop_table("key_places")
    op.drop_table("feed_status")
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_events_ts"))

    op.drop_table("events")
    with op.batch_alter_table("cameras", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cameras_status_since"))

    op.drop_table("cameras")
    op.drop_table("bus_stops")
    with op.batch_alter_table("bus_positions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bus_positions_ts"))

    op.drop_table("bus_positions")
    op.drop_table("bus_lines")
    op.drop_table("air_stations")
    with op.batch_alter_table("air_readings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_air_readings_ts"))

    op.drop_table("air_readings")
    with op.batch_alter_table("accidents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_accidents_ts"))

    op.drop_table("accidents")
