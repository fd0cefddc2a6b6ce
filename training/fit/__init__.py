"""Trainers (supervised, teacher, distilled student), losses and distributed runs."""
