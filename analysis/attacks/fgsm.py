"""Fast gradient sign method (Goodfellow et al. 2015): one step of size eps."""
from analysis.attacks.base import Attack


class FGSM(Attack):
    def forward(self, x, y):
        return self.project(x + self.eps * self.gradient(x, y).sign(), x)
