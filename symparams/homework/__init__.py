"""Homework: seeded exercise variants, question sheets, answer keys, Moodle XML, grading."""
