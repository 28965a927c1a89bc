"""Reinforcement learning, seed 002 ch. 4: Markov decision processes, the return G_t = r_{t+1} + γ G_{t+1}
and the Bellman equation, dynamic programming, tabular Q-learning and SARSA, policy gradients (REINFORCE and
actor-critic on CartPole) and imitation learning by behaviour cloning."""
